// facefleet-gen-models --random OUTDIR
//
// Writes random-weight models with the registry's exact contracts and about the real models' parameter
// counts into OUTDIR, under the registry's file names, for speed measurements (the real weights are not
// downloadable here). Prints one line per model: name, parameters, file size in bytes, path.
// Exit codes follow the error table (src/core/status.cpp): 0 ok, 2 usage, 6 output failed, ...
#include <array>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <string>
#include <string_view>
#include <system_error>

#include "facefleet/status.hpp"
#include "model_gen.hpp"
#include "models/registry.hpp"

namespace {

using facefleet::ErrorCode;
using facefleet::Status;

struct Target {
  std::string_view name;
  std::int64_t parameters;  // 0: the registry's approx_bytes / 4 (float32 weights dominate these files)
};

// Parameter targets and their sources.
constexpr std::array<Target, 5> kTargets = {{
    // 3 MB file (registry approx_bytes) / 4 bytes per float32 = 0.75 M.
    {"scrfd_2.5g", 0},
    // 98 MB file / 4 = 24.5 M.
    {"2dfan4", 0},
    // 174 MB file / 4 = 43.5 M.
    {"arcface_w600k_r50", 0},
    // 138.3 M parameters: deepinsight/inswapper-512-live README, evaluation table (see
    // shared/reference/facefusion-models.md, "Model size and compute"); the 554 MB file agrees (/4 = 138.5 M).
    {"inswapper_128", 138'300'000},
    // 340 MB file / 4 = 85 M (a mirror's GFPGANv1.4.onnx is 340,256,686 bytes).
    {"gfpgan_1.4", 0},
}};

constexpr std::string_view kUsage =
    "usage: facefleet-gen-models --random OUTDIR\n"
    "  Writes random-weight models (scrfd_2.5g, 2dfan4, arcface_w600k_r50, inswapper_128, gfpgan_1.4) with the\n"
    "  registry's tensor contracts and about the real models' parameter counts. For speed measurements only.\n";

int Fail(std::string_view command, const Status& status) {
  std::cerr << "facefleet-gen-models" << command << ": error: " << status.ToString() << "\n";
  return facefleet::error_info(status.code()).exit_code;
}

int GenerateRandom(const std::filesystem::path& out_dir) {
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) return Fail(" --random", Status(ErrorCode::kOutputFailed, out_dir.string() + ": " + ec.message()));
  std::uint32_t seed = 1;
  for (const Target& target : kTargets) {
    const facefleet::models::ModelInfo* info = facefleet::models::FindModel(target.name);
    if (info == nullptr) {
      return Fail(" --random", Status(ErrorCode::kInternal, std::string(target.name) + ": not in the registry"));
    }
    const std::int64_t parameters = target.parameters > 0 ? target.parameters : info->approx_bytes / 4;
    const std::string path = (out_dir / info->file).string();
    if (Status s = facefleet::modelgen::WriteRandomWeightModel(*info, parameters, seed++, path); !s.ok()) {
      return Fail(" --random", s);
    }
    const facefleet::Result<std::int64_t> count = facefleet::modelgen::CountParameters(path);
    if (!count.ok()) return Fail(" --random", count.status());
    std::cout << info->name << "\t" << *count << " params\t" << std::filesystem::file_size(path, ec) << " bytes\t"
              << path << std::endl;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string_view first = argc > 1 ? argv[1] : "";
  if (first == "-h" || first == "--help") {
    std::cout << kUsage;
    return 0;
  }
  if (argc == 3 && first == "--random") return GenerateRandom(argv[2]);
  std::cerr << kUsage;
  return facefleet::error_info(ErrorCode::kUsage).exit_code;
}
