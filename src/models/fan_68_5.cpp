// fan_68_5: estimates 68 points from the 5 alignment points. The 5 points are first mapped into the unit
// ffhq_512 template space (similarity transform); the model's 68 points come back in that space and are
// mapped back with the inverse transform.
#include <opencv2/calib3d.hpp>
#include <opencv2/imgproc.hpp>

#include "models/onnx_models.hpp"
#include "pipeline/face_align.hpp"

namespace facefleet::models {
namespace {

class Fan68From5 final : public FaceLandmarker5To68 {
 public:
  explicit Fan68From5(std::unique_ptr<runtime::Session> session) : session_(std::move(session)) {}

  Result<Landmarks68> Estimate(const std::array<Point2, 5>& landmark5) const override {
    const cv::Mat affine = pipeline::EstimateAlignment(landmark5, *FindWarpTemplate("ffhq_512"), 1);
    std::vector<cv::Point2f> points;
    points.reserve(5);
    for (const Point2& p : landmark5) points.emplace_back(p.x, p.y);
    std::vector<cv::Point2f> normalized;
    cv::transform(points, normalized, affine);
    std::vector<float> input;
    for (const auto& p : normalized) input.insert(input.end(), {p.x, p.y});
    const runtime::TensorView view{input.data(), ElementType::kFloat32, {1, 5, 2}};
    auto result = session_->Run(std::span(&view, 1));
    if (!result.ok()) return result.status();
    std::vector<cv::Point2f> estimated;
    estimated.reserve(68);
    for (int i = 0; i < 68; ++i) estimated.emplace_back((*result)[0].data[i * 2], (*result)[0].data[i * 2 + 1]);
    cv::Mat inverse;
    cv::invertAffineTransform(affine, inverse);
    std::vector<cv::Point2f> frame;
    cv::transform(estimated, frame, inverse);
    Landmarks68 out;
    for (int i = 0; i < 68; ++i) out[i] = {frame[i].x, frame[i].y};
    return out;
  }

 private:
  std::unique_ptr<runtime::Session> session_;
};

}  // namespace

Result<std::unique_ptr<FaceLandmarker5To68>> CreateFan68From5(const ModelInfo& info, const LoadOptions& options) {
  return MakeSessionModel<FaceLandmarker5To68, Fan68From5>(info, options);
}

}  // namespace facefleet::models
