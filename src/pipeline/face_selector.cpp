#include "pipeline/face_selector.hpp"

#include <algorithm>
#include <string>

namespace facefleet::pipeline {

namespace {

// Ascending sort key; orders that read "large to small" negate the measure.
float SortKey(const Face& face, FaceSelectorOrder order) {
  switch (order) {
    case FaceSelectorOrder::kLeftRight:
      return face.box.x;
    case FaceSelectorOrder::kRightLeft:
      return -face.box.x;
    case FaceSelectorOrder::kTopBottom:
      return face.box.y;
    case FaceSelectorOrder::kBottomTop:
      return -face.box.y;
    case FaceSelectorOrder::kSmallLarge:
      return face.box.area();
    case FaceSelectorOrder::kLargeSmall:
      return -face.box.area();
    case FaceSelectorOrder::kBestWorst:
      return -face.score;
    case FaceSelectorOrder::kWorstBest:
      return face.score;
  }
  return 0;
}

}  // namespace

void SortFaces(std::vector<Face>& faces, FaceSelectorOrder order) {
  std::stable_sort(faces.begin(), faces.end(),
                   [order](const Face& a, const Face& b) { return SortKey(a, order) < SortKey(b, order); });
}

Result<std::vector<Face>> SelectFaces(std::vector<Face> faces, FaceSelectorMode mode, FaceSelectorOrder order,
                                      int reference_position) {
  if (faces.empty()) return Status(ErrorCode::kNoFace, "no face found");
  SortFaces(faces, order);
  switch (mode) {
    case FaceSelectorMode::kMany:
      return faces;
    case FaceSelectorMode::kOne:
      return std::vector<Face>{faces.front()};
    case FaceSelectorMode::kReference:
      if (reference_position >= static_cast<int>(faces.size())) {
        return Status(ErrorCode::kUsage, "--reference-face-position " + std::to_string(reference_position) +
                                             " is out of range: the target has " + std::to_string(faces.size()) +
                                             " face(s)");
      }
      return std::vector<Face>{faces[static_cast<std::size_t>(reference_position)]};
  }
  return Status(ErrorCode::kInternal, "unknown selector mode");
}

const Face& LargestFace(const std::vector<Face>& faces) {
  return *std::max_element(faces.begin(), faces.end(),
                           [](const Face& a, const Face& b) { return a.box.area() < b.box.area(); });
}

}  // namespace facefleet::pipeline
