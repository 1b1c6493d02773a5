// xseg_1 occluder (DeepFaceLab): the crop resized to 256, NHWC (1, 256, 256, 3), BGR / 255; output
// (1, 256, 256, 1) clipped to [0, 1] and resized back to the crop size.
#include <opencv2/imgproc.hpp>

#include "models/onnx_models.hpp"

namespace facefleet::models {
namespace {

class Xseg final : public FaceOccluderModel {
 public:
  explicit Xseg(std::unique_ptr<runtime::Session> session) : session_(std::move(session)) {}

  Result<cv::Mat> Occlusion(const cv::Mat& crop) const override {
    constexpr int kSize = 256;
    cv::Mat resized;
    cv::resize(crop, resized, cv::Size(kSize, kSize));
    cv::Mat input;
    resized.convertTo(input, CV_32FC3, 1.0 / 255.0);  // NHWC is the Mat's own layout
    const runtime::TensorView view{input.data, ElementType::kFloat32, {1, kSize, kSize, 3}};
    auto outputs = session_->Run(std::span(&view, 1));
    if (!outputs.ok()) return outputs.status();
    cv::Mat mask(kSize, kSize, CV_32F, (*outputs)[0].data.data());
    cv::Mat out;
    cv::resize(cv::min(cv::max(mask, 0.0), 1.0), out, crop.size());
    return out;
  }

 private:
  std::unique_ptr<runtime::Session> session_;
};

}  // namespace

Result<std::unique_ptr<FaceOccluderModel>> CreateXseg(const ModelInfo& info, const LoadOptions& options) {
  return MakeSessionModel<FaceOccluderModel, Xseg>(info, options);
}

}  // namespace facefleet::models
