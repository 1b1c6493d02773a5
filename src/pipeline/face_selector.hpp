// Which faces to swap: sorting by FaceFusion's orders and the one/many/reference modes.
#pragma once

#include <vector>

#include "facefleet/options.hpp"
#include "facefleet/types.hpp"

namespace facefleet::pipeline {

// Stable sort of `faces` by `order` (left-right by box left edge, top-bottom by top edge, small-large by box
// area, best-worst by detector score).
void SortFaces(std::vector<Face>& faces, FaceSelectorOrder order);

// Sorts and then picks the faces to swap. kNoFace when `faces` is empty; kUsage when reference mode asks
// for a position past the number of faces.
Result<std::vector<Face>> SelectFaces(std::vector<Face> faces, FaceSelectorMode mode, FaceSelectorOrder order,
                                      int reference_position);

// The face with the largest box (ties: the first). Precondition: !faces.empty().
const Face& LargestFace(const std::vector<Face>& faces);

}  // namespace facefleet::pipeline
