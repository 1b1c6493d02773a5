#include "facefleet/version.hpp"

#include <dlib/revision.h>
#include <opencv2/core/version.hpp>

#ifndef FACEFLEET_VERSION
#error "FACEFLEET_VERSION must be defined by the build"
#endif

namespace facefleet {

std::string Version() { return FACEFLEET_VERSION; }

std::string LibraryVersions() {
  return "opencv " CV_VERSION "\ndlib " + std::to_string(DLIB_MAJOR_VERSION) + "." +
         std::to_string(DLIB_MINOR_VERSION) + "." + std::to_string(DLIB_PATCH_VERSION) + "\nonnxruntime " +
         OnnxRuntimeVersion();
}

}  // namespace facefleet
