// FrameSwapper: a swap prepared once (source identity, models) and applied to any number of frames.
#include <algorithm>

#include <opencv2/imgproc.hpp>

#include "core/stopwatch.hpp"
#include "pipeline/engine_impl.hpp"
#include "pipeline/face_selector.hpp"

namespace facefleet::pipeline {
namespace {

// FaceFusion's face distance: (1 - cos) / 2 on normalised embeddings.
float Distance(const models::Embedding& a, const models::Embedding& b) {
  double dot = 0;
  for (std::size_t i = 0; i < a.normalized.size(); ++i) dot += static_cast<double>(a.normalized[i]) * b.normalized[i];
  return static_cast<float>((1.0 - dot) / 2.0);
}

}  // namespace

cv::Mat ToBgr(const cv::Mat& image) {
  if (image.channels() == 3) return image;
  cv::Mat bgr;
  cv::cvtColor(image, bgr, cv::COLOR_BGRA2BGR);
  return bgr;
}

Result<std::vector<Face>> FrameSwapper::Detect(const cv::Mat& bgr, StageTimings* timings) const {
  return analyser_.Analyze(bgr, timings);
}

// Sorts `faces` and returns the indices to swap. The neural reference mode matches faces to the reference
// face by embedding distance (filling `embeddings`); every other case is the plain selector.
Result<std::vector<std::size_t>> FrameSwapper::Choose(const cv::Mat& bgr, std::vector<Face>& faces,
                                                      std::vector<models::Embedding>& embeddings) const {
  const SwapOptions& o = options_;
  SortFaces(faces, o.face_selector_order);
  auto selected = SelectFaces(faces, o.face_selector_mode, o.face_selector_order, o.reference_face_position);
  if (!selected.ok()) return selected.status();
  const bool neural = neural_.swapper != nullptr;
  const bool by_embedding = neural && o.face_selector_mode == FaceSelectorMode::kReference;
  embeddings.resize(faces.size());
  if (neural && (by_embedding || o.face_swapper_weight != 0.5F)) {
    for (std::size_t i = 0; i < faces.size(); ++i) {
      auto e = recognizer_->Embed(bgr, faces[i].landmark5);
      if (!e.ok()) return e.status();
      embeddings[i] = std::move(*e);
    }
  }
  std::vector<std::size_t> chosen;
  if (by_embedding) {
    const auto& reference = embeddings[static_cast<std::size_t>(o.reference_face_position)];
    for (std::size_t i = 0; i < faces.size(); ++i) {
      if (Distance(reference, embeddings[i]) < o.reference_face_distance) chosen.push_back(i);
    }
  } else if (o.face_selector_mode == FaceSelectorMode::kReference) {
    chosen.push_back(static_cast<std::size_t>(o.reference_face_position));
  } else {
    for (std::size_t i = 0; i < selected->size(); ++i) chosen.push_back(i);  // sorted order = selected order
  }
  return chosen;
}

Result<int> FrameSwapper::SwapFaces(cv::Mat& bgr, std::vector<Face> faces, StageTimings* timings) const {
  if (faces.empty()) return 0;
  core::Stopwatch watch;
  std::vector<models::Embedding> embeddings;
  auto chosen = Choose(bgr, faces, embeddings);
  if (!chosen.ok()) return chosen.status();
  if (timings != nullptr) timings->embed_ms += watch.LapMs();
  int swapped = 0;
  for (const std::size_t i : *chosen) {
    if (neural_.swapper != nullptr) {
      std::vector<float> input = source_input_;
      if (options_.face_swapper_weight != 0.5F) {
        input =
            BalanceSource(std::move(input), embeddings[i], options_.face_swapper_weight, options_.face_swapper_model);
      }
      if (Status s = SwapNeuralFace(neural_, input, faces[i], options_, bgr, timings); !s.ok()) return s;
    } else {
      SwapClassicFace(classic_source_, faces[i], options_.classic_blend, bgr, timings);
    }
    if (Status s = EnhanceFace(neural_, faces[i], options_, bgr, timings); !s.ok()) return s;
    ++swapped;
  }
  return swapped;
}

}  // namespace facefleet::pipeline

namespace facefleet {

Result<std::unique_ptr<pipeline::FrameSwapper>> Engine::Impl::Prepare(std::span<const cv::Mat> sources,
                                                                      std::span<const std::string> source_names,
                                                                      const SwapOptions& options,
                                                                      StageTimings* timings) const {
  auto analyser = Analyser(options);
  if (!analyser.ok()) return analyser.status();
  std::unique_ptr<pipeline::FrameSwapper> swapper(new pipeline::FrameSwapper(*analyser, options));
  auto neural = Neural(options, swapper->keep_);
  if (!neural.ok()) return neural.status();
  swapper->neural_ = *neural;
  std::vector<cv::Mat> bgr;
  std::vector<Face> faces;
  for (std::size_t i = 0; i < sources.size(); ++i) {
    bgr.push_back(pipeline::ToBgr(sources[i]));
    auto found = analyser->Analyze(bgr.back(), timings);
    if (!found.ok()) return found.status();
    if (found->empty()) return Status(ErrorCode::kNoFace, source_names[i] + ": no face found in source");
    faces.push_back(pipeline::LargestFace(*found));
  }
  core::Stopwatch watch;
  if (swapper->neural_.swapper == nullptr) {
    swapper->classic_source_ = pipeline::BuildClassicSource(bgr, faces);
    swapper->classic_source_.texture = swapper->classic_source_.texture.clone();  // own it beyond `sources`
  } else {
    auto recognizer = Recognizer();
    if (!recognizer.ok()) return recognizer.status();
    swapper->recognizer_ = *recognizer;
    std::vector<models::Embedding> embeddings;
    for (std::size_t i = 0; i < bgr.size(); ++i) {
      auto e = (*recognizer)->Embed(bgr[i], faces[i].landmark5);
      if (!e.ok()) return e.status();
      embeddings.push_back(std::move(*e));
    }
    auto input = swapper->neural_.swapper->PrepareSource(pipeline::AverageEmbeddings(embeddings));
    if (!input.ok()) return input.status();
    swapper->source_input_ = std::move(*input);
  }
  if (timings != nullptr) timings->embed_ms += watch.LapMs();
  return swapper;
}

}  // namespace facefleet
