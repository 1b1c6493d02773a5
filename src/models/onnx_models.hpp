// Factories for the FaceFusion model zoo on ONNX Runtime. One source file per model; each implements one of
// the small interfaces of face_models.hpp or the crop-level interfaces below.
//
// Every factory loads `<models_dir>/<file>` through runtime::Session (which validates the tensor contract)
// and fails with kModelUnavailable naming the model. All objects are immutable and thread-safe.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "models/face_models.hpp"
#include "models/registry.hpp"
#include "runtime/session.hpp"

namespace facefleet::models {

// Where and how to load models.
struct LoadOptions {
  std::string models_dir;
  runtime::RuntimeOptions runtime;
};

Result<std::unique_ptr<runtime::Session>> LoadSession(const ModelInfo& info, const LoadOptions& options);

// Loads the session for `info` and wraps it in `Impl` (constructible from the session) as an `Interface`.
template <typename Interface, typename Impl>
Result<std::unique_ptr<Interface>> MakeSessionModel(const ModelInfo& info, const LoadOptions& options) {
  auto session = LoadSession(info, options);
  if (!session.ok()) return session.status();
  return std::unique_ptr<Interface>(std::make_unique<Impl>(std::move(*session)));
}

struct DetectorOptions {
  int size = 640;                // square input; retinaface/scrfd accept 160-640, the others 640
  float score_threshold = 0.5F;  // FaceFusion's --face-detector-score
  float nms_iou = 0.4F;          // FaceFusion's value for one angle
};

Result<std::unique_ptr<FaceDetector>> CreateOnnxDetector(const ModelInfo& info, const LoadOptions& options,
                                                         const DetectorOptions& detector);
Result<std::unique_ptr<FaceLandmarker68>> CreateFan2dfan4(const ModelInfo& info, const LoadOptions& options);
Result<std::unique_ptr<FaceLandmarker5To68>> CreateFan68From5(const ModelInfo& info, const LoadOptions& options);
Result<std::unique_ptr<FaceRecognizer>> CreateArcface(const ModelInfo& info, const LoadOptions& options);

// A face swapper working on aligned crops of info.crop_size (the pipeline handles pixel boost tiling).
class FaceSwapperModel {
 public:
  virtual ~FaceSwapperModel() = default;
  virtual const ModelInfo& info() const = 0;
  // The model's `source` input from the averaged source identity (FaceFusion's per-model recipe).
  virtual Result<std::vector<float>> PrepareSource(const Embedding& source) const = 0;
  // Swaps one BGR crop of info().crop_size; returns a BGR crop of the same size.
  virtual Result<cv::Mat> SwapCrop(const cv::Mat& crop, std::span<const float> source) const = 0;
};
// Loads the swapper and its companion (crossface converter) if it has one.
Result<std::unique_ptr<FaceSwapperModel>> CreateSwapper(const ModelInfo& info, const LoadOptions& options);

class FaceEnhancerModel {
 public:
  virtual ~FaceEnhancerModel() = default;
  virtual const ModelInfo& info() const = 0;
  // Enhances one BGR crop of info().crop_size; `weight` feeds models with a weight input (codeformer).
  virtual Result<cv::Mat> Enhance(const cv::Mat& crop, double weight) const = 0;
};
Result<std::unique_ptr<FaceEnhancerModel>> CreateEnhancer(const ModelInfo& info, const LoadOptions& options);

// Occlusion (xseg): a float mask in [0, 1] at the crop's size (before SoftenMask).
class FaceOccluderModel {
 public:
  virtual ~FaceOccluderModel() = default;
  virtual Result<cv::Mat> Occlusion(const cv::Mat& crop) const = 0;
};
Result<std::unique_ptr<FaceOccluderModel>> CreateXseg(const ModelInfo& info, const LoadOptions& options);

// Face parsing (bisenet): 1 where the argmax class is one of `classes`, else 0, at the crop's size.
class FaceParserModel {
 public:
  virtual ~FaceParserModel() = default;
  virtual Result<cv::Mat> Regions(const cv::Mat& crop, std::span<const int> classes) const = 0;
};
Result<std::unique_ptr<FaceParserModel>> CreateBisenet(const ModelInfo& info, const LoadOptions& options);

}  // namespace facefleet::models
