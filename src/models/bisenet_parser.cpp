// bisenet_resnet_34 face parser: the crop resized to 512, RGB, ImageNet mean/std; output (1, 19, 512, 512)
// logits -> per-pixel argmax -> 1 where the class is selected -> resized back to the crop size.
// Class ids (FaceFusion's region names): skin 1, left-eyebrow 2, right-eyebrow 3, left-eye 4, right-eye 5,
// glasses 6, nose 10, mouth 11, upper-lip 12, lower-lip 13.
#include <algorithm>

#include <opencv2/imgproc.hpp>

#include "models/onnx_models.hpp"
#include "pipeline/face_align.hpp"

namespace facefleet::models {
namespace {

class Bisenet final : public FaceParserModel {
 public:
  explicit Bisenet(std::unique_ptr<runtime::Session> session) : session_(std::move(session)) {}

  Result<cv::Mat> Regions(const cv::Mat& crop, std::span<const int> classes) const override {
    const ModelInfo& m = session_->info();
    const int size = m.crop_size;
    cv::Mat resized;
    cv::resize(crop, resized, cv::Size(size, size));
    const std::vector<float> input = pipeline::ToNchwRgb(resized, m.mean, m.stddev);
    const runtime::TensorView view{input.data(), ElementType::kFloat32, {1, 3, size, size}};
    auto outputs = session_->Run(std::span(&view, 1));
    if (!outputs.ok()) return outputs.status();
    const std::vector<float>& logits = (*outputs)[0].data;
    const std::size_t plane = static_cast<std::size_t>(size) * size;
    const std::size_t channels = logits.size() / plane;
    cv::Mat mask(size, size, CV_32F);
    for (std::size_t p = 0; p < plane; ++p) {
      std::size_t best = 0;
      for (std::size_t c = 1; c < channels; ++c) {
        if (logits[c * plane + p] > logits[best * plane + p]) best = c;
      }
      const bool selected = std::find(classes.begin(), classes.end(), static_cast<int>(best)) != classes.end();
      mask.at<float>(static_cast<int>(p / size), static_cast<int>(p % size)) = selected ? 1.0F : 0.0F;
    }
    cv::Mat out;
    cv::resize(mask, out, crop.size());
    return out;
  }

 private:
  std::unique_ptr<runtime::Session> session_;
};

}  // namespace

Result<std::unique_ptr<FaceParserModel>> CreateBisenet(const ModelInfo& info, const LoadOptions& options) {
  return MakeSessionModel<FaceParserModel, Bisenet>(info, options);
}

}  // namespace facefleet::models
