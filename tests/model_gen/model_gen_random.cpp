// Random-weight graphs with a registry contract and a chosen parameter count, for speed measurements.
//
// Image models (an NCHW or NHWC rank-4 input): an encoder of three 3x3 stride-2 convolutions (widths c, 2c,
// 4c), then a conditioning MLP, the "fat" layer that holds most parameters: Gemm D -> F -> 4c, added per
// channel to the stride-8 features (D = the swapper's `source`, so it drives the output, or else the features'
// global average), then two 3x3 blocks: the trunk. Heads attach to feature levels built on demand: strides
// 16/32 by further stride-2 convolutions, strides 4/2/1 by 2x2 transposed convolutions. The MLP runs on one
// row, so the parameter count costs memory traffic, not convolution work: every graph runs in well under a
// second or two on a CPU. Models without an image input (fan_68_5, crossface): a two-layer MLP.
//
// The parameter count is linear in F, so the solver picks the widest c (capped so that large inputs stay
// cheap) whose fixed part takes at most half the target, then solves F exactly.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <map>
#include <random>

#include "graph_builder.hpp"
#include "model_gen.hpp"

namespace facefleet::modelgen {
namespace {

using models::ModelInfo;

constexpr int kTrunkLevel = 3;  // the trunk works at stride 2^3
constexpr int kMaxLevel = 5;    // stride 32, the coarsest detector level
constexpr std::int64_t kAnchorsPerCell = 2;
constexpr double kTolerance = 0.05;
constexpr std::int64_t kAssumedDynamicSide = 640;  // for the width cap when the input size is dynamic

enum class HeadKind : std::uint8_t {
  kImage,    // rank-4 map at one level (swapper/enhancer output, heatmaps, masks, parser logits)
  kAnchors,  // (-1, w): InsightFace layout, output i at stride 8 << (i % 3), 2 anchors per cell
  kDense,    // (1, C, L) with L = cells at strides 8/16/32 (yoloface)
  kVector,   // anything else with fixed dims: global pool (or MLP) -> Gemm -> Reshape
};

struct Head {
  HeadKind kind = HeadKind::kVector;
  int level = 0;
  std::int64_t channels = 0;  // output channels (image, dense), row width (anchors), or element count (vector)
  bool channels_last = false;
  std::vector<std::int64_t> reshape;  // vector heads: the contract shape, dynamic dim as -1
};

struct Plan {
  bool image = false;
  std::size_t image_input = 0;
  bool channels_last = false;
  std::int64_t in_channels = 0;
  std::int64_t height = -1;  // -1: dynamic
  std::int64_t width = -1;
  std::vector<std::size_t> conditions;  // (1, D) inputs (the swapper's source) feeding the fat layer
  std::vector<Head> heads;
};

struct NetShape {
  std::int64_t width = 16;  // channels at stride 2
  std::int64_t hidden = 1;  // F, the fat layer's hidden width
};

std::string Where(const ModelInfo& info) { return std::string(info.name) + ": "; }

std::int64_t CeilDiv(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

// The number of cells at strides 8, 16 and 32 of an h x w input (3x3 stride-2 convolutions round up).
std::int64_t DenseCells(std::int64_t h, std::int64_t w) {
  std::int64_t cells = 0;
  for (int level = kTrunkLevel; level <= kMaxLevel; ++level)
    cells += CeilDiv(h, 1LL << level) * CeilDiv(w, 1LL << level);
  return cells;
}

Result<Head> PlanImageHead(const ModelInfo& info, const Plan& plan, const std::vector<std::int64_t>& shape) {
  Head head{.kind = HeadKind::kImage, .level = 0, .channels = 0, .channels_last = IsChannelsLast(shape), .reshape = {}};
  head.channels = shape[head.channels_last ? 3 : 1];
  const std::int64_t out_height = shape[head.channels_last ? 1 : 2];
  if (head.channels <= 0) return Status(ErrorCode::kUsage, Where(info) + "an image output needs fixed channels");
  if (plan.height > 0 && out_height > 0) {
    while (head.level <= kMaxLevel && (plan.height >> head.level) != out_height) ++head.level;
    if (head.level > kMaxLevel || plan.height % (1LL << std::max(head.level, kTrunkLevel)) != 0) {
      return Status(ErrorCode::kUsage, Where(info) + "output height " + std::to_string(out_height) +
                                           " is not the input's divided by a power of two");
    }
  }
  return head;
}

Result<Head> PlanHead(const ModelInfo& info, const Plan& plan, std::size_t index) {
  const std::vector<std::int64_t>& shape = info.outputs[index].shape;
  const auto dynamic = std::count_if(shape.begin(), shape.end(), [](std::int64_t d) { return d < 0; });
  if (shape.empty()) return Status(ErrorCode::kUsage, Where(info) + "the contract leaves an output's shape open");
  if (plan.image && shape.size() == 4) return PlanImageHead(info, plan, shape);
  if (plan.image && shape.size() == 2 && shape[0] < 0 && shape[1] > 0) {
    return Head{.kind = HeadKind::kAnchors,
                .level = kTrunkLevel + static_cast<int>(index % 3),
                .channels = shape[1],
                .channels_last = false,
                .reshape = {}};
  }
  if (plan.image && shape.size() == 3 && dynamic == 0 && shape[0] == 1 && plan.height > 0 && plan.width > 0 &&
      shape[2] == DenseCells(plan.height, plan.width)) {
    return Head{
        .kind = HeadKind::kDense, .level = kTrunkLevel, .channels = shape[1], .channels_last = false, .reshape = {}};
  }
  if (dynamic > 1) return Status(ErrorCode::kUsage, Where(info) + "an output has several dynamic dims");
  return Head{.kind = HeadKind::kVector,
              .level = kTrunkLevel,
              .channels = FixedProduct(shape),
              .channels_last = false,
              .reshape = shape};
}

Result<Plan> Analyse(const ModelInfo& info) {
  if (info.inputs.empty() || info.outputs.empty()) {
    return Status(ErrorCode::kUsage, Where(info) + "the contract needs inputs and outputs");
  }
  Plan plan;
  for (std::size_t i = 0; i < info.inputs.size(); ++i) {
    const std::vector<std::int64_t>& shape = info.inputs[i].shape;
    if (shape.size() == 4 && !plan.image) {
      plan.image = true;
      plan.image_input = i;
      plan.channels_last = IsChannelsLast(shape);
      plan.in_channels = shape[plan.channels_last ? 3 : 1];
      plan.height = shape[plan.channels_last ? 1 : 2];
      plan.width = shape[plan.channels_last ? 2 : 3];
    } else if (shape.size() == 2 && shape[0] == 1 && shape[1] > 0) {
      plan.conditions.push_back(i);
    }
  }
  if (plan.image && plan.in_channels <= 0) return Status(ErrorCode::kUsage, Where(info) + "image channels are dynamic");
  if (!plan.image) plan.conditions.clear();  // MLP models read input 0 directly
  for (std::size_t i = 0; i < info.outputs.size(); ++i) {
    Result<Head> head = PlanHead(info, plan, i);
    if (!head.ok()) return head.status();
    plan.heads.push_back(std::move(*head));
  }
  return plan;
}

// Builds one random graph for a plan and a shape; in a dry run the weights have dims but no data, which is
// enough to count parameters.
class RandomNet {
 public:
  RandomNet(const ModelInfo& info, const Plan& plan, NetShape shape, std::uint32_t seed, bool dry_run)
      : info_(info), plan_(plan), shape_(shape), dry_run_(dry_run), rng_(seed), graph_(info) {}

  onnx::ModelProto& Build() {
    std::vector<std::string> outputs;
    if (plan_.image) {
      for (const Head& head : plan_.heads) outputs.push_back(ImageModelHead(head));
    } else {
      const std::int64_t k = FixedProduct(info_.inputs[0].shape);
      const std::string rows = graph_.Op("Reshape", {graph_.InputAsFloat(0), graph_.Int64Tensor({-1, k})});
      const std::string hidden = Dense(rows, k, shape_.hidden, true);
      for (const Head& head : plan_.heads) {
        const std::string flat = Dense(hidden, shape_.hidden, head.channels, false);
        outputs.push_back(graph_.Op("Reshape", {flat, graph_.Int64Tensor(head.reshape)}));
      }
    }
    graph_.Finish(std::move(outputs));
    // inswapper files carry the 512 x 512 embedding map as their last initializer (read by the engine, not
    // used by the graph); add one after Finish so nothing follows it.
    if (info_.name.starts_with("inswapper")) Weight({512, 512}, 512);
    return graph_.model();
  }

 private:
  // He-uniform weights (bound sqrt(6 / fan_in)) keep activations of order one through ReLU stacks, so timing
  // runs never hit inf or denormals.
  std::string Weight(const std::vector<std::int64_t>& dims, std::int64_t fan_in) {
    onnx::TensorProto& tensor = graph_.EmptyFloatTensor("w", dims);
    if (!dry_run_) Fill(tensor, static_cast<float>(std::sqrt(6.0 / static_cast<double>(fan_in))));
    return tensor.name();
  }

  std::string Bias(std::int64_t n) {
    onnx::TensorProto& tensor = graph_.EmptyFloatTensor("b", {n});
    if (!dry_run_) Fill(tensor, 0.05F);
    return tensor.name();
  }

  void Fill(onnx::TensorProto& tensor, float bound) {
    std::int64_t count = 1;
    for (const std::int64_t dim : tensor.dims()) count *= dim;
    std::string* raw = tensor.mutable_raw_data();
    raw->resize(static_cast<std::size_t>(count) * sizeof(float));
    std::array<float, 4096> chunk{};
    for (std::int64_t done = 0; done < count;) {
      const auto n = static_cast<std::size_t>(std::min<std::int64_t>(chunk.size(), count - done));
      FillUniform(rng_, bound, std::span(chunk.data(), n));
      std::memcpy(raw->data() + done * static_cast<std::int64_t>(sizeof(float)), chunk.data(), n * sizeof(float));
      done += static_cast<std::int64_t>(n);
    }
  }

  std::string Relu(const std::string& x, bool relu) { return relu ? graph_.Op("Relu", {x}) : x; }

  std::string Conv(const std::string& x, std::int64_t cin, std::int64_t cout, std::int64_t kernel, std::int64_t stride,
                   bool relu) {
    const std::int64_t pad = kernel / 2;
    const std::string w = Weight({cout, cin, kernel, kernel}, cin * kernel * kernel);
    return Relu(graph_.Op("Conv", {x, w, Bias(cout)},
                          {IntsAttr("kernel_shape", {kernel, kernel}), IntsAttr("strides", {stride, stride}),
                           IntsAttr("pads", {pad, pad, pad, pad})}),
                relu);
  }

  // 2x upsampling: 2x2 stride-2 transposed convolution, then ReLU.
  std::string Upsample(const std::string& x, std::int64_t cin, std::int64_t cout) {
    const std::string w = Weight({cin, cout, 2, 2}, cin);
    return Relu(
        graph_.Op("ConvTranspose", {x, w, Bias(cout)}, {IntsAttr("kernel_shape", {2, 2}), IntsAttr("strides", {2, 2})}),
        true);
  }

  std::string Dense(const std::string& x, std::int64_t in, std::int64_t out, bool relu) {
    return Relu(graph_.Op("Gemm", {x, Weight({in, out}, in), Bias(out)}), relu);
  }

  std::int64_t Channels(int level) const {
    if (level >= kTrunkLevel) return 4 * shape_.width;
    return level == 2 ? 2 * shape_.width : shape_.width;
  }

  std::string Trunk() {
    const std::int64_t c = shape_.width;
    std::string x = graph_.InputAsFloat(plan_.image_input);
    if (plan_.channels_last) x = graph_.Op("Transpose", {x}, {IntsAttr("perm", {0, 3, 1, 2})});
    x = Conv(x, plan_.in_channels, c, 3, 2, true);
    x = Conv(x, c, 2 * c, 3, 2, true);
    x = Conv(x, 2 * c, 4 * c, 3, 2, true);
    std::string condition;
    std::int64_t condition_size = 0;
    std::vector<std::string> parts;
    for (const std::size_t i : plan_.conditions) {
      parts.push_back(graph_.InputAsFloat(i));
      condition_size += info_.inputs[i].shape[1];
    }
    if (parts.empty()) {
      condition = graph_.Op("Flatten", {graph_.Op("GlobalAveragePool", {x})}, {IntAttr("axis", 1)});
      condition_size = 4 * c;
    } else {
      condition = parts.size() == 1 ? parts[0] : graph_.Op("Concat", parts, {IntAttr("axis", 1)});
    }
    const std::string hidden = Dense(condition, condition_size, shape_.hidden, true);
    const std::string shift = Dense(hidden, shape_.hidden, 4 * c, false);
    x = graph_.Op("Add", {x, graph_.Op("Reshape", {shift, graph_.Int64Tensor({-1, 4 * c, 1, 1})})});
    x = Conv(x, 4 * c, 4 * c, 3, 1, true);
    return Conv(x, 4 * c, 4 * c, 3, 1, true);
  }

  // The feature map at stride 2^level, built once.
  std::string Level(int level) {
    if (const auto it = levels_.find(level); it != levels_.end()) return it->second;
    std::string x;
    if (level == kTrunkLevel) {
      x = Trunk();
    } else if (level > kTrunkLevel) {
      x = Conv(Level(level - 1), Channels(level - 1), Channels(level), 3, 2, true);
    } else {
      x = Upsample(Level(level + 1), Channels(level + 1), Channels(level));
    }
    levels_[level] = x;
    return x;
  }

  std::string ImageModelHead(const Head& head) {
    switch (head.kind) {
      case HeadKind::kImage: {
        const std::string y = Conv(Level(head.level), Channels(head.level), head.channels, 3, 1, false);
        return head.channels_last ? graph_.Op("Transpose", {y}, {IntsAttr("perm", {0, 2, 3, 1})}) : y;
      }
      case HeadKind::kAnchors: {
        const std::string y =
            Conv(Level(head.level), Channels(head.level), kAnchorsPerCell * head.channels, 1, 1, false);
        const std::string nhwc = graph_.Op("Transpose", {y}, {IntsAttr("perm", {0, 2, 3, 1})});
        return graph_.Op("Reshape", {nhwc, graph_.Int64Tensor({-1, head.channels})});
      }
      case HeadKind::kDense: {
        std::vector<std::string> parts;
        for (int level = kTrunkLevel; level <= kMaxLevel; ++level) {
          const std::string y = Conv(Level(level), Channels(level), head.channels, 1, 1, false);
          parts.push_back(graph_.Op("Reshape", {y, graph_.Int64Tensor({1, head.channels, -1})}));
        }
        return graph_.Op("Concat", parts, {IntAttr("axis", 2)});
      }
      case HeadKind::kVector:
        break;
    }
    if (pooled_.empty()) {
      pooled_ = graph_.Op("Flatten", {graph_.Op("GlobalAveragePool", {Level(kTrunkLevel)})}, {IntAttr("axis", 1)});
    }
    const std::string flat = Dense(pooled_, Channels(kTrunkLevel), head.channels, false);
    return graph_.Op("Reshape", {flat, graph_.Int64Tensor(head.reshape)});
  }

  const ModelInfo& info_;
  const Plan& plan_;
  NetShape shape_;
  bool dry_run_;
  std::mt19937 rng_;
  GraphBuilder graph_;
  std::map<int, std::string> levels_;
  std::string pooled_;
};

std::int64_t CountFor(const ModelInfo& info, const Plan& plan, NetShape shape) {
  RandomNet net(info, plan, shape, 0, true);
  return InitializerElements(net.Build().graph());
}

// The widest width (capped by the input size, so big images stay cheap) whose fixed part leaves at least
// half the target to the fat layer, then the hidden width F that lands on the target.
Result<NetShape> Solve(const ModelInfo& info, const Plan& plan, std::int64_t target) {
  const std::int64_t side = std::max({plan.height, plan.width, std::int64_t{0}});
  const std::int64_t cap = std::clamp<std::int64_t>(8192 / (side > 0 ? side : kAssumedDynamicSide), 16, 64);
  std::vector<std::int64_t> widths;
  for (const std::int64_t w : {64, 48, 32, 24, 16, 12, 8, 4}) {
    if (w <= cap) widths.push_back(w);
  }
  std::int64_t width = widths.back();
  for (const std::int64_t w : widths) {
    if (CountFor(info, plan, {w, 1}) * 2 <= target) {
      width = w;
      break;
    }
  }
  const std::int64_t at_one = CountFor(info, plan, {width, 1});
  const std::int64_t slope = CountFor(info, plan, {width, 2}) - at_one;
  const std::int64_t hidden =
      1 + std::max<std::int64_t>(0, std::llround(static_cast<double>(target - at_one) / static_cast<double>(slope)));
  const std::int64_t total = at_one + (hidden - 1) * slope;
  if (std::abs(static_cast<double>(total - target)) > kTolerance * static_cast<double>(target)) {
    return Status(ErrorCode::kUsage, Where(info) + "cannot build " + std::to_string(target) +
                                         " parameters; the smallest graph for this contract has " +
                                         std::to_string(at_one));
  }
  return NetShape{width, hidden};
}

}  // namespace

Status WriteRandomWeightModel(const ModelInfo& info, std::int64_t parameters, std::uint32_t seed,
                              const std::string& path) {
  // float32 weights must fit protobuf's 2 GiB message limit.
  constexpr std::int64_t kMaxParameters = 500'000'000;
  if (parameters <= 0 || parameters > kMaxParameters) {
    return {ErrorCode::kUsage, Where(info) + "parameters must be in 1.." + std::to_string(kMaxParameters)};
  }
  Result<Plan> plan = Analyse(info);
  if (!plan.ok()) return plan.status();
  Result<NetShape> shape = Solve(info, *plan, parameters);
  if (!shape.ok()) return shape.status();
  RandomNet net(info, *plan, *shape, seed, false);
  return WriteModel(net.Build(), path);
}

}  // namespace facefleet::modelgen
