// Engine: wires the face analyser, selector and classic swapper to image I/O.
#include "facefleet/engine.hpp"

#include <opencv2/imgproc.hpp>

#include "core/stopwatch.hpp"
#include "media/image_io.hpp"
#include "pipeline/classic_swapper.hpp"
#include "pipeline/face_analyser.hpp"
#include "pipeline/face_selector.hpp"

namespace facefleet {

struct Engine::Impl {
  explicit Impl(pipeline::FaceAnalyser face_analyser) : analyser(std::move(face_analyser)) {}
  pipeline::FaceAnalyser analyser;

  // The swap with caller-chosen names for messages ("source #1" or a path). Images are 8-bit BGR(A).
  Result<cv::Mat> SwapMats(std::span<const cv::Mat> sources, std::span<const std::string> source_names,
                           const cv::Mat& target, const std::string& target_name, const SwapOptions& options,
                           SwapReport& report) const;
};

namespace {

cv::Mat ToBgr(const cv::Mat& image) {
  if (image.channels() == 3) return image;
  cv::Mat bgr;
  cv::cvtColor(image, bgr, cv::COLOR_BGRA2BGR);
  return bgr;
}

}  // namespace

Result<cv::Mat> Engine::Impl::SwapMats(std::span<const cv::Mat> sources, std::span<const std::string> source_names,
                                       const cv::Mat& target, const std::string& target_name,
                                       const SwapOptions& options, SwapReport& report) const {
  std::vector<cv::Mat> source_bgr;
  std::vector<Face> source_faces;
  for (std::size_t i = 0; i < sources.size(); ++i) {
    source_bgr.push_back(ToBgr(sources[i]));
    auto faces = analyser.Analyze(source_bgr.back(), &report.timings);
    if (!faces.ok()) return faces.status();
    if (faces->empty()) return Status(ErrorCode::kNoFace, source_names[i] + ": no face found in source");
    source_faces.push_back(pipeline::LargestFace(*faces));
  }
  cv::Mat frame = ToBgr(target).clone();
  auto target_faces = analyser.Analyze(frame, &report.timings);
  if (!target_faces.ok()) return target_faces.status();
  report.target_faces = static_cast<int>(target_faces->size());
  if (target_faces->empty()) return Status(ErrorCode::kNoFace, target_name + ": no face found in target");
  auto selected = pipeline::SelectFaces(std::move(*target_faces), options.face_selector_mode,
                                        options.face_selector_order, options.reference_face_position);
  if (!selected.ok()) return Status(selected.status().code(), target_name + ": " + selected.status().message());

  core::Stopwatch watch;
  const pipeline::ClassicSource source = pipeline::BuildClassicSource(source_bgr, source_faces);
  report.timings.warp_ms += watch.LapMs();
  for (const Face& face : *selected) {
    pipeline::SwapClassicFace(source, face, options.classic_blend, frame, &report.timings);
    ++report.swapped_faces;
  }
  if (target.channels() == 4) {  // keep the target's alpha channel exactly
    std::vector<cv::Mat> planes;
    cv::split(target, planes);
    cv::Mat bgra;
    cv::cvtColor(frame, bgra, cv::COLOR_BGR2BGRA);
    cv::mixChannels(std::vector<cv::Mat>{planes[3]}, std::vector<cv::Mat>{bgra}, std::vector<int>{0, 3});
    frame = bgra;
  }
  return frame;
}

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

Result<std::unique_ptr<Engine>> Engine::Create(const EngineOptions& options) {
  auto landmarker = models::CreateDlibShapePredictor(options.shape_predictor_path);
  if (!landmarker.ok()) return landmarker.status();
  auto impl = std::make_unique<Impl>(
      pipeline::FaceAnalyser(models::CreateDlibHogDetector(options.face_detector_size), std::move(*landmarker)));
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

Result<std::vector<Face>> Engine::Analyze(const Image& image) const {
  if (image.empty()) return Status(ErrorCode::kInputUnreadable, "empty image");
  return impl_->analyser.Analyze(ToBgr(media::AsMat(image)));
}

Result<Image> Engine::Swap(std::span<const Image> sources, const Image& target, const SwapOptions& options,
                           SwapReport* report) const {
  if (sources.empty()) return Status(ErrorCode::kUsage, "at least one source image is required");
  std::vector<cv::Mat> source_mats;
  std::vector<std::string> names;
  for (std::size_t i = 0; i < sources.size(); ++i) {
    if (sources[i].empty())
      return Status(ErrorCode::kInputUnreadable, "source #" + std::to_string(i + 1) + " is empty");
    source_mats.push_back(media::AsMat(sources[i]));
    names.push_back("source #" + std::to_string(i + 1));
  }
  if (target.empty()) return Status(ErrorCode::kInputUnreadable, "target is empty");
  SwapReport local;
  auto out = impl_->SwapMats(source_mats, names, media::AsMat(target), "target", options, local);
  if (report != nullptr) *report = local;
  if (!out.ok()) return out.status();
  return media::ToImage(*out);
}

Status Engine::CheckSwapFiles(const SwapOptions& options) {
  if (Status valid = ValidateSwapOptions(options); !valid.ok()) return valid;
  for (const std::string& path : options.source_paths) {
    if (Status readable = media::CheckInputPath(path); !readable.ok()) return readable;
  }
  if (Status readable = media::CheckInputPath(options.target_path); !readable.ok()) return readable;
  return media::CheckOutputPath(options.output_path);
}

Result<SwapReport> Engine::SwapFiles(const SwapOptions& options) const {
  if (Status checked = CheckSwapFiles(options); !checked.ok()) return checked;
  const auto format = media::FormatFromExtension(options.output_path);
  SwapReport report;
  core::Stopwatch watch;
  std::vector<cv::Mat> sources;
  for (const std::string& path : options.source_paths) {
    auto image = media::ReadImage(path, options.max_image_pixels);
    if (!image.ok()) return image.status();
    sources.push_back(std::move(*image));
  }
  auto target = media::ReadImage(options.target_path, options.max_image_pixels);
  if (!target.ok()) return target.status();
  report.timings.decode_ms = watch.LapMs();

  auto swapped = impl_->SwapMats(sources, options.source_paths, *target, options.target_path, options, report);
  if (!swapped.ok()) return swapped.status();
  watch.LapMs();
  auto bytes = media::EncodeImage(*swapped, *format, options.output_image_quality);
  if (!bytes.ok()) return bytes.status();
  if (Status written = media::WriteFileAtomic(options.output_path, *bytes); !written.ok()) return written;
  report.timings.encode_ms = watch.LapMs();
  return report;
}

}  // namespace facefleet
