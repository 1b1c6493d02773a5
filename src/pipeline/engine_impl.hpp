// Engine internals shared by facefleet's pipelines (image, video): the model cache and the FrameSwapper, a
// swap prepared once (source identity computed, models resolved) and applied to many frames.
//
// Thread safety: Engine::Impl and FrameSwapper are immutable after construction; all const methods may be
// called from several threads at once (each frame worker passes its own frame).
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "facefleet/engine.hpp"
#include "models/onnx_models.hpp"
#include "pipeline/classic_swapper.hpp"
#include "pipeline/face_analyser.hpp"
#include "pipeline/model_cache.hpp"
#include "pipeline/neural_swap.hpp"

namespace facefleet::pipeline {

// `image` as 8-bit BGR (a view when it already is; a converted copy for BGRA).
cv::Mat ToBgr(const cv::Mat& image);

// kUsage when the target's content (an image or a video, sniffed, not by name) does not match the output
// extension's kind. Targets that are neither pass: their reader reports why.
Status CheckTargetKind(const SwapOptions& options);

class FrameSwapper {
 public:
  // Faces in `bgr` (8-bit BGR) found by the configured detector and landmarker.
  Result<std::vector<Face>> Detect(const cv::Mat& bgr, StageTimings* timings = nullptr) const;

  // Selects among `faces` (the selector options) and swaps them in `bgr` in place, then enhances them when
  // an enhancer is configured. Returns how many faces were swapped; kUsage when the reference position is
  // out of range. `faces` may come from Detect or from a tracker.
  Result<int> SwapFaces(cv::Mat& bgr, std::vector<Face> faces, StageTimings* timings = nullptr) const;

  const SwapOptions& options() const { return options_; }

 private:
  friend struct facefleet::Engine::Impl;
  FrameSwapper(FaceAnalyser analyser, SwapOptions options)
      : analyser_(std::move(analyser)), options_(std::move(options)) {}
  Result<std::vector<std::size_t>> Choose(const cv::Mat& bgr, std::vector<Face>& faces,
                                          std::vector<models::Embedding>& embeddings) const;

  FaceAnalyser analyser_;
  SwapOptions options_;
  std::vector<std::shared_ptr<const void>> keep_;  // owns the models `neural_` points to
  NeuralModels neural_;                            // swapper null for the classic swapper
  std::shared_ptr<const models::FaceRecognizer> recognizer_;
  std::vector<float> source_input_;  // neural: the swapper's prepared source
  ClassicSource classic_source_;     // classic: the (averaged) source texture
};

}  // namespace facefleet::pipeline

namespace facefleet {

struct Engine::Impl {
  EngineOptions engine_options;
  models::LoadOptions load;
  std::shared_ptr<const models::FaceDetector> classic_detector;
  mutable pipeline::ModelCache cache;

  // dlib's 68-point predictor, loaded on first use (~0.3 s) so that runs without face analysis (a video with
  // --face-swapper-model none) never pay for it. Engine::Create has already checked that the file exists.
  // `detector`, the one it will work with, is warmed on a second thread during that first load (dlib's HOG
  // model takes about as long to decode, and both are needed before the first face); later calls start nothing.
  Result<std::shared_ptr<const models::FaceLandmarker68>> ClassicLandmarker(const models::FaceDetector& detector) const;

  // Resolves models and computes the source identity from `sources` (8-bit BGR or BGRA). Names appear in
  // error messages ("source #1" or a path). Adds analysis time to `timings` when given.
  Result<std::unique_ptr<pipeline::FrameSwapper>> Prepare(std::span<const cv::Mat> sources,
                                                          std::span<const std::string> source_names,
                                                          const SwapOptions& options, StageTimings* timings) const;

  Result<pipeline::FaceAnalyser> Analyser(const SwapOptions& o) const;
  Result<pipeline::NeuralModels> Neural(const SwapOptions& o, std::vector<std::shared_ptr<const void>>& keep) const;
  Result<std::shared_ptr<const models::FaceRecognizer>> Recognizer() const;

  // Yields the target image; called once, after the sources are prepared, so a caller can decode the target
  // on another thread while the source faces are analysed.
  using TargetLoader = std::function<Result<cv::Mat>()>;

  // One image: Prepare + Detect + SwapFaces, keeping the target's alpha channel. A target that cannot be
  // loaded is reported before any problem with the sources (as if it had been decoded first).
  Result<cv::Mat> SwapMats(std::span<const cv::Mat> sources, std::span<const std::string> source_names,
                           const TargetLoader& load_target, const std::string& target_name, const SwapOptions& options,
                           SwapReport& report) const;
};

}  // namespace facefleet
