// The ONNX Runtime the process actually loaded (the shared library may differ from the headers).
#include <onnxruntime_c_api.h>

#include "facefleet/version.hpp"

namespace facefleet {

std::string OnnxRuntimeVersion() {
  const OrtApiBase* base = OrtGetApiBase();
  return base != nullptr ? base->GetVersionString() : "unavailable";
}

}  // namespace facefleet
