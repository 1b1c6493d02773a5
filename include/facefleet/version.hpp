// facefleet/version.hpp — version strings of facefleet and the libraries it was linked against.
#pragma once

#include <string>

namespace facefleet {

// facefleet's own version, e.g. "0.1.0".
std::string Version();

// The version reported by the linked ONNX Runtime at run time, e.g. "1.29.0".
std::string OnnxRuntimeVersion();

// One line per linked library: "opencv 4.6.0", "dlib 19.24.0", "onnxruntime 1.29.0".
std::string LibraryVersions();

}  // namespace facefleet
