// Name -> implementation dispatch for the ONNX models, and the shared session loader.
#include <filesystem>

#include "models/detector_common.hpp"
#include "models/onnx_models.hpp"

namespace facefleet::models {

Result<std::unique_ptr<runtime::Session>> LoadSession(const ModelInfo& info, const LoadOptions& options) {
  const std::string path = (std::filesystem::path(options.models_dir) / std::string(info.file)).string();
  return runtime::Session::Load(info, path, options.runtime);
}

Result<std::unique_ptr<FaceDetector>> CreateOnnxDetector(const ModelInfo& info, const LoadOptions& options,
                                                         const DetectorOptions& detector) {
  detail::DetectorRecipe recipe;
  DetectorOptions effective = detector;
  if (info.name == "yoloface_8n") {
    recipe = detail::YolofaceRecipe();
    effective.size = 640;  // fixed input
  } else if (info.name == "scrfd_2.5g") {
    recipe = detail::ScrfdRecipe();
  } else if (info.name == "retinaface_10g") {
    recipe = detail::RetinafaceRecipe();
  } else if (info.name == "yunet_2023_mar") {
    recipe = detail::YunetRecipe();
    effective.size = 640;
  } else {
    return Status(ErrorCode::kUsage, "unknown face detector model '" + std::string(info.name) + "' (valid: classic, " +
                                         ModelNames(ModelKind::kDetector) + ")");
  }
  if (effective.size % 32 != 0 || effective.size < 160 || effective.size > 640) {
    return Status(ErrorCode::kUsage, "--face-detector-size must be a multiple of 32 within 160-640");
  }
  auto session = LoadSession(info, options);
  if (!session.ok()) return session.status();
  return detail::MakeOnnxDetector(std::move(*session), effective, std::move(recipe));
}

}  // namespace facefleet::models
