// facefleet swap: the CLI face of Engine::SwapFiles.
#include <cstdio>

#include "commands.hpp"
#include "common/flags.hpp"
#include "facefleet/facefleet.hpp"

namespace facefleet::apps {
namespace {

std::string Joined(std::span<const std::string_view> names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : "|") + std::string(name);
  return out;
}

FlagSet SwapFlags() {
  const SwapOptions defaults;
  const EngineOptions engine;
  FlagSet flags("swap", "Swap the face from one or more source photos into a target photo (jpg, png, webp, bmp).");
  flags.Add({"--source", "PATH", "source image; the largest face of each is used, several are averaged", "", true});
  flags.Add({"--target", "PATH", "target image whose face(s) are replaced", ""});
  flags.Add({"--output", "PATH", "output image (.jpg .jpeg .png .webp .bmp), written atomically", ""});
  flags.Add({"--face-swapper-model", "NAME", "swapper model (classic: zero-download, dlib + warp + blend)",
             defaults.face_swapper_model});
  flags.Add(
      {"--face-selector-mode", "MODE", "which target faces to swap: " + Joined(FaceSelectorModeNames()), "reference"});
  flags.Add(
      {"--face-selector-order", "ORDER", "order of target faces: " + Joined(FaceSelectorOrderNames()), "large-small"});
  flags.Add({"--reference-face-position", "N", "reference mode: index of the target face in that order",
             std::to_string(defaults.reference_face_position)});
  flags.Add({"--classic-blend", "MODE", "classic swapper blending: " + Joined(ClassicBlendNames()), "feather"});
  flags.Add({"--output-image-quality", "0-100", "JPEG/WebP quality", std::to_string(defaults.output_image_quality)});
  flags.Add({"--max-image-pixels", "N", "refuse inputs whose header declares more pixels",
             std::to_string(defaults.max_image_pixels)});
  flags.Add({"--face-detector-size", "PIXELS", "longer side of the copy the classic detector scans",
             std::to_string(engine.face_detector_size)});
  flags.Add({"--shape-predictor", "PATH", "dlib 68-point shape predictor file", engine.shape_predictor_path});
  flags.Add({"--quiet", "", "print nothing on success", ""});
  return flags;
}

// Fills the option structs from parsed flags; kUsage naming the flag on a bad value.
Status ReadOptions(const FlagSet& flags, SwapOptions& swap, EngineOptions& engine) {
  swap.source_paths = flags.GetAll("--source");
  swap.target_path = flags.Get("--target");
  swap.output_path = flags.Get("--output");
  swap.face_swapper_model = flags.Get("--face-swapper-model");
  auto mode = ParseFaceSelectorMode(flags.Get("--face-selector-mode"));
  auto order = ParseFaceSelectorOrder(flags.Get("--face-selector-order"));
  auto blend = ParseClassicBlend(flags.Get("--classic-blend"));
  auto position = flags.GetInt("--reference-face-position", 0, 1000);
  auto quality = flags.GetInt("--output-image-quality", 0, 100);
  auto max_pixels = flags.GetInt("--max-image-pixels", 1, INT64_MAX);
  auto detector_size = flags.GetInt("--face-detector-size", 80, 8192);
  for (const Status& s : {mode.status(), order.status(), blend.status(), position.status(), quality.status(),
                          max_pixels.status(), detector_size.status()}) {
    if (!s.ok()) return s;
  }
  swap.face_selector_mode = *mode;
  swap.face_selector_order = *order;
  swap.classic_blend = *blend;
  swap.reference_face_position = static_cast<int>(*position);
  swap.output_image_quality = static_cast<int>(*quality);
  swap.max_image_pixels = *max_pixels;
  engine.face_detector_size = static_cast<int>(*detector_size);
  engine.shape_predictor_path = flags.Get("--shape-predictor");
  return ValidateSwapOptions(swap);
}

}  // namespace

int ReportError(const std::string& command, const Status& status) {
  std::fprintf(stderr, "facefleet%s%s: error: %s\n", command.empty() ? "" : " ", command.c_str(),
               status.ToString().c_str());
  return error_info(status.code()).exit_code;
}

int RunSwap(const std::vector<std::string>& args) {
  FlagSet flags = SwapFlags();
  if (Status parsed = flags.Parse(args); !parsed.ok()) return ReportError("swap", parsed);
  if (flags.HelpRequested()) {
    std::fputs(flags.Help().c_str(), stdout);
    return 0;
  }
  SwapOptions options;
  EngineOptions engine_options;
  if (Status read = ReadOptions(flags, options, engine_options); !read.ok()) return ReportError("swap", read);
  if (Status checked = Engine::CheckSwapFiles(options); !checked.ok()) return ReportError("swap", checked);
  auto engine = Engine::Create(engine_options);
  if (!engine.ok()) return ReportError("swap", engine.status());
  auto report = (*engine)->SwapFiles(options);
  if (!report.ok()) return ReportError("swap", report.status());
  if (!flags.GetBool("--quiet")) {
    std::printf("%s\n", options.output_path.c_str());
    std::fprintf(stderr, "facefleet swap: %d of %d face(s) swapped\n", report->swapped_faces, report->target_faces);
  }
  return 0;
}

}  // namespace facefleet::apps
