// Reading initializers out of an ONNX file with libonnx (for inswapper's embedding map).
#pragma once

#include <string>
#include <vector>

#include "facefleet/status.hpp"

namespace facefleet::models {

// The values of the graph's LAST initializer as float32 (float16 and float64 are converted). Fails with
// kModelUnavailable when the file cannot be parsed or the initializer does not hold `expected_count` values.
Result<std::vector<float>> ReadLastInitializer(const std::string& path, std::size_t expected_count);

}  // namespace facefleet::models
