#include "models/registry.hpp"

#include <algorithm>

namespace facefleet::models {
namespace {

using S = std::vector<std::int64_t>;
constexpr std::array<float, 3> kZero = {0, 0, 0};
constexpr std::array<float, 3> kOne = {1, 1, 1};
constexpr std::array<float, 3> kHalf = {0.5F, 0.5F, 0.5F};
constexpr std::array<float, 3> kImageNetMean = {0.485F, 0.456F, 0.406F};
constexpr std::array<float, 3> kImageNetStd = {0.229F, 0.224F, 0.225F};
constexpr std::int64_t kMB = 1'000'000;

// InsightFace-style detectors (retinaface, scrfd): scores, boxes and 5-point offsets per stride 8/16/32.
std::vector<TensorSpec> AnchorDetectorOutputs() {
  std::vector<TensorSpec> out;
  for (const std::int64_t width : {1, 1, 1, 4, 4, 4, 10, 10, 10})
    out.push_back({"", ElementType::kFloat32, S{-1, width}});
  return out;
}

std::vector<TensorSpec> SwapperInputs(std::int64_t size) {
  return {{"source", ElementType::kFloat32, S{1, 512}}, {"target", ElementType::kFloat32, S{1, 3, size, size}}};
}

// Detectors: whole frame, BGR as-is.
void AddDetectors(std::vector<ModelInfo>& t) {
  const TensorSpec det640{"input", ElementType::kFloat32, S{1, 3, 640, 640}};
  const TensorSpec det_any{"input", ElementType::kFloat32, S{1, 3, -1, -1}};
  t.push_back({"yoloface_8n",
               ModelKind::kDetector,
               "yoloface_8n.onnx",
               "models-3.0.0",
               "GPL-3.0",
               true,
               12 * kMB,
               "",
               640,
               kZero,
               kOne,
               {det640},
               {{"", ElementType::kFloat32, S{1, 20, 8400}}},
               ""});
  t.push_back({"scrfd_2.5g",
               ModelKind::kDetector,
               "scrfd_2.5g.onnx",
               "models-3.0.0",
               "Non-Commercial (InsightFace)",
               false,
               3 * kMB,
               "",
               640,
               kZero,
               kOne,
               {det_any},
               AnchorDetectorOutputs(),
               ""});
  t.push_back({"retinaface_10g",
               ModelKind::kDetector,
               "retinaface_10g.onnx",
               "models-3.0.0",
               "Non-Commercial (InsightFace)",
               false,
               17 * kMB,
               "",
               640,
               kZero,
               kOne,
               {det_any},
               AnchorDetectorOutputs(),
               ""});
  std::vector<TensorSpec> yunet_out(12, TensorSpec{"", ElementType::kFloat32, S{}});
  t.push_back({"yunet_2023_mar",
               ModelKind::kDetector,
               "yunet_2023_mar.onnx",
               "models-3.4.0",
               "MIT",
               true,
               kMB / 4,
               "",
               640,
               kZero,
               kOne,
               {det_any},
               yunet_out,
               ""});
}

// Landmarkers and the recognizer.
void AddFaceModels(std::vector<ModelInfo>& t) {
  // Landmarkers.
  t.push_back({"2dfan4",
               ModelKind::kLandmarker,
               "2dfan4.onnx",
               "models-3.0.0",
               "MIT",
               true,
               98 * kMB,
               "",
               256,
               kZero,
               kOne,
               {{"input", ElementType::kFloat32, S{1, 3, 256, 256}}},
               {{"", ElementType::kFloat32, S{1, 68, 3}}, {"", ElementType::kFloat32, S{1, 68, 64, 64}}},
               ""});
  t.push_back({"fan_68_5",
               ModelKind::kLandmarker,
               "fan_68_5.onnx",
               "models-3.0.0",
               "OpenRAIL-M",
               true,
               kMB,
               "ffhq_512",
               1,
               kZero,
               kOne,
               {{"input", ElementType::kFloat32, S{1, 5, 2}}},
               {{"", ElementType::kFloat32, S{1, 68, 2}}},
               ""});
  // Recognizer.
  t.push_back({"arcface_w600k_r50",
               ModelKind::kRecognizer,
               "arcface_w600k_r50.onnx",
               "models-3.0.0",
               "Non-Commercial (InsightFace)",
               false,
               174 * kMB,
               "arcface_112_v2",
               112,
               kHalf,
               kHalf,
               {{"input", ElementType::kFloat32, S{1, 3, 112, 112}}},
               {{"", ElementType::kFloat32, S{1, 512}}},
               ""});
}

// Swappers and their embedding converters: RGB crops, mean/std as FaceFusion.
void AddSwappers(std::vector<ModelInfo>& t) {
  const TensorSpec out128{"", ElementType::kFloat32, S{1, 3, 128, 128}};
  const TensorSpec out256{"", ElementType::kFloat32, S{1, 3, 256, 256}};
  t.push_back({"inswapper_128",
               ModelKind::kSwapper,
               "inswapper_128.onnx",
               "models-3.0.0",
               "Non-Commercial (InsightFace)",
               false,
               554 * kMB,
               "arcface_128",
               128,
               kZero,
               kOne,
               SwapperInputs(128),
               {out128},
               ""});
  t.push_back({"inswapper_128_fp16",
               ModelKind::kSwapper,
               "inswapper_128_fp16.onnx",
               "models-3.0.0",
               "Non-Commercial (InsightFace)",
               false,
               277 * kMB,
               "arcface_128",
               128,
               kZero,
               kOne,
               SwapperInputs(128),
               {out128},
               ""});
  for (const auto& [name, file] :
       {std::pair{"hyperswap_1a_256", "hyperswap_1a_256.onnx"}, std::pair{"hyperswap_1b_256", "hyperswap_1b_256.onnx"},
        std::pair{"hyperswap_1c_256", "hyperswap_1c_256.onnx"}}) {
    t.push_back({name,
                 ModelKind::kSwapper,
                 file,
                 "models-3.3.0",
                 "ResearchRAIL (non-commercial)",
                 false,
                 403 * kMB,
                 "arcface_128",
                 256,
                 kHalf,
                 kHalf,
                 SwapperInputs(256),
                 {out256},
                 ""});
  }
}

// Swappers whose source identity goes through an embedding converter, and the converters.
void AddConvertedSwappers(std::vector<ModelInfo>& t) {
  const TensorSpec embedding_in{"input", ElementType::kFloat32, S{-1, 512}};
  const TensorSpec embedding_out{"", ElementType::kFloat32, S{-1, 512}};
  const TensorSpec out256{"", ElementType::kFloat32, S{1, 3, 256, 256}};
  t.push_back({"simswap_256",
               ModelKind::kSwapper,
               "simswap_256.onnx",
               "models-3.0.0",
               "Non-Commercial",
               false,
               220 * kMB,
               "arcface_112_v1",
               256,
               kImageNetMean,
               kImageNetStd,
               SwapperInputs(256),
               {out256},
               "crossface_simswap"});
  for (const auto& [name, file] :
       {std::pair{"ghost_1_256", "ghost_1_256.onnx"}, std::pair{"ghost_2_256", "ghost_2_256.onnx"},
        std::pair{"ghost_3_256", "ghost_3_256.onnx"}}) {
    t.push_back({name,
                 ModelKind::kSwapper,
                 file,
                 "models-3.0.0",
                 "Apache-2.0",
                 true,
                 380 * kMB,
                 "arcface_112_v1",
                 256,
                 kHalf,
                 kHalf,
                 SwapperInputs(256),
                 {out256},
                 "crossface_ghost"});
  }
  for (const auto& [name, file] : {std::pair{"crossface_simswap", "crossface_simswap.onnx"},
                                   std::pair{"crossface_ghost", "crossface_ghost.onnx"}}) {
    t.push_back({name,
                 ModelKind::kEmbeddingConverter,
                 file,
                 "models-3.4.0",
                 "same as its swapper",
                 false,
                 21 * kMB,
                 "",
                 0,
                 kZero,
                 kOne,
                 {embedding_in},
                 {embedding_out},
                 ""});
  }
}

// Enhancers and masks.
void AddEnhancersAndMasks(std::vector<ModelInfo>& t) {
  const TensorSpec rgb512{"", ElementType::kFloat32, S{1, 3, 512, 512}};
  // Enhancers.
  t.push_back({"gfpgan_1.4",
               ModelKind::kEnhancer,
               "gfpgan_1.4.onnx",
               "models-3.0.0",
               "Apache-2.0",
               true,
               340 * kMB,
               "ffhq_512",
               512,
               kHalf,
               kHalf,
               {{"input", ElementType::kFloat32, S{1, 3, 512, 512}}},
               {rgb512},
               ""});
  t.push_back({"codeformer",
               ModelKind::kEnhancer,
               "codeformer.onnx",
               "models-3.0.0",
               "S-Lab-1.0 (non-commercial)",
               false,
               377 * kMB,
               "ffhq_512",
               512,
               kHalf,
               kHalf,
               {{"input", ElementType::kFloat32, S{1, 3, 512, 512}}, {"weight", ElementType::kFloat64, S{1}}},
               {rgb512},
               ""});
  // Masks.
  t.push_back({"xseg_1",
               ModelKind::kOccluder,
               "xseg_1.onnx",
               "models-3.1.0",
               "GPL-3.0",
               true,
               70 * kMB,
               "",
               256,
               kZero,
               kOne,
               {{"input", ElementType::kFloat32, S{1, 256, 256, 3}}},
               {{"", ElementType::kFloat32, S{1, 256, 256, 1}}},
               ""});
  t.push_back({"bisenet_resnet_34",
               ModelKind::kParser,
               "bisenet_resnet_34.onnx",
               "models-3.0.0",
               "MIT",
               true,
               89 * kMB,
               "",
               512,
               kImageNetMean,
               kImageNetStd,
               {{"input", ElementType::kFloat32, S{1, 3, 512, 512}}},
               {{"", ElementType::kFloat32, S{1, 19, 512, 512}}},
               ""});
}

std::vector<ModelInfo> BuildTable() {
  std::vector<ModelInfo> t;
  AddDetectors(t);
  AddFaceModels(t);
  AddSwappers(t);
  AddConvertedSwappers(t);
  AddEnhancersAndMasks(t);
  return t;
}

const std::vector<ModelInfo>& Table() {
  static const std::vector<ModelInfo> table = BuildTable();
  return table;
}

constexpr std::array<std::pair<std::string_view, WarpTemplate>, 7> kTemplates = {{
    {"arcface_112_v1",
     {{{0.35473214F, 0.45658929F},
       {0.64526786F, 0.45658929F},
       {0.50000000F, 0.61154464F},
       {0.37913393F, 0.77687500F},
       {0.62086607F, 0.77687500F}}}},
    {"arcface_112_v2",
     {{{0.34191607F, 0.46157411F},
       {0.65653393F, 0.45983393F},
       {0.50022500F, 0.64050536F},
       {0.37097589F, 0.82469196F},
       {0.63151696F, 0.82325089F}}}},
    {"arcface_128",
     {{{0.36167656F, 0.40387734F},
       {0.63696719F, 0.40235469F},
       {0.50019687F, 0.56044219F},
       {0.38710391F, 0.72160547F},
       {0.61507734F, 0.72034453F}}}},
    {"dfl_whole_face",
     {{{0.35342266F, 0.39285716F},
       {0.62797622F, 0.39285716F},
       {0.48660713F, 0.54017860F},
       {0.38839287F, 0.68750011F},
       {0.59821427F, 0.68750011F}}}},
    {"ffhq_512",
     {{{0.37691676F, 0.46864664F},
       {0.62285697F, 0.46912813F},
       {0.50123859F, 0.61331904F},
       {0.39308822F, 0.72541100F},
       {0.61150205F, 0.72490465F}}}},
    {"mtcnn_512",
     {{{0.36562865F, 0.46733799F},
       {0.63305391F, 0.46585885F},
       {0.50019127F, 0.61942959F},
       {0.39032951F, 0.77598822F},
       {0.61178945F, 0.77476328F}}}},
    {"styleganex_384",
     {{{0.42353745F, 0.52289879F},
       {0.57725008F, 0.52319972F},
       {0.50123859F, 0.61331904F},
       {0.43364461F, 0.68337652F},
       {0.57015325F, 0.68306005F}}}},
}};

}  // namespace

std::span<const ModelInfo> AllModels() { return Table(); }

const ModelInfo* FindModel(std::string_view name) {
  const auto& table = Table();
  const auto it = std::find_if(table.begin(), table.end(), [&](const ModelInfo& m) { return m.name == name; });
  return it == table.end() ? nullptr : &*it;
}

std::string ModelNames(ModelKind kind) {
  std::string out;
  for (const ModelInfo& m : Table()) {
    if (m.kind != kind) continue;
    if (!out.empty()) out += ", ";
    out += m.name;
  }
  return out;
}

std::string_view KindName(ModelKind kind) {
  static constexpr std::array<std::string_view, 8> kNames = {
      "detector", "landmarker", "recognizer", "swapper", "embedding converter", "enhancer", "occluder", "parser"};
  return kNames[static_cast<std::size_t>(kind)];
}

std::vector<std::string> DownloadUrls(const ModelInfo& model) {
  const std::string release(model.release);
  const std::string file(model.file);
  return {"https://github.com/facefusion/facefusion-assets/releases/download/" + release + "/" + file,
          "https://huggingface.co/facefusion/" + release + "/resolve/main/" + file};
}

const WarpTemplate* FindWarpTemplate(std::string_view name) {
  for (const auto& [key, value] : kTemplates) {
    if (key == name) return &value;
  }
  return nullptr;
}

}  // namespace facefleet::models
