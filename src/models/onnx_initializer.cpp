#include "models/onnx_initializer.hpp"

#include <cstring>
#include <fstream>

#include <onnx/onnx_pb.h>
#include <opencv2/core.hpp>

namespace facefleet::models {
namespace {

std::vector<float> ToFloats(const onnx::TensorProto& t) {
  std::vector<float> out;
  const std::string& raw = t.raw_data();
  switch (t.data_type()) {
    case onnx::TensorProto::FLOAT:
      if (!raw.empty()) {
        out.resize(raw.size() / sizeof(float));
        std::memcpy(out.data(), raw.data(), out.size() * sizeof(float));
      } else {
        out.assign(t.float_data().begin(), t.float_data().end());
      }
      break;
    case onnx::TensorProto::FLOAT16: {
      std::vector<std::uint16_t> half;
      if (!raw.empty()) {
        half.resize(raw.size() / 2);
        std::memcpy(half.data(), raw.data(), half.size() * 2);
      } else {
        for (const int v : t.int32_data()) half.push_back(static_cast<std::uint16_t>(v));  // fp16 bits in int32s
      }
      for (const std::uint16_t h : half) {
        out.push_back(static_cast<float>(cv::float16_t::fromBits(h)));
      }
      break;
    }
    case onnx::TensorProto::DOUBLE:
      if (!raw.empty()) {
        std::vector<double> d(raw.size() / sizeof(double));
        std::memcpy(d.data(), raw.data(), d.size() * sizeof(double));
        out.assign(d.begin(), d.end());
      } else {
        out.assign(t.double_data().begin(), t.double_data().end());
      }
      break;
    default:
      break;
  }
  return out;
}

}  // namespace

Result<std::vector<float>> ReadLastInitializer(const std::string& path, std::size_t expected_count) {
  std::ifstream in(path, std::ios::binary);
  onnx::ModelProto model;
  if (!in || !model.ParseFromIstream(&in)) {
    return Status(ErrorCode::kModelUnavailable, path + ": cannot parse the ONNX file to read its initializers");
  }
  const auto& inits = model.graph().initializer();
  if (inits.empty()) return Status(ErrorCode::kModelUnavailable, path + ": the model has no initializers");
  std::vector<float> values = ToFloats(inits.Get(inits.size() - 1));
  if (values.size() != expected_count) {
    return Status(ErrorCode::kModelUnavailable, path + ": last initializer holds " + std::to_string(values.size()) +
                                                    " values, expected " + std::to_string(expected_count));
  }
  return values;
}

}  // namespace facefleet::models
