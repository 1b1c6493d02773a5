// dlib's 68-point shape predictor (an ensemble of regression trees, Kazemi & Sullivan 2014), read from the
// same .dat file as dlib but stored flat.
//
// Why not dlib::shape_predictor: deserializing it builds ~120,000 small matrices, one heap allocation each,
// from ~16 M floats read one integer at a time through an istream — ~0.75 s of CPU, the longest step of a
// classic swap's start. Here the leaves go into one array in one pass over the mapped file. Prediction
// follows dlib's operator() step by step (same transforms, same float operations, same rounding), so the
// landmarks are identical; tests compare the two on real photos.
//
// File format (dlib/serialize.h): an integer is a control byte (low 4 bits: byte count, 0x80: negative) and
// that many little-endian bytes; a float is its mantissa then its exponent as integers (ldexp); a vector is
// its size then its items; a matrix its rows and columns (negated in the newer format) then its items.
// A shape predictor is: version 1, the initial shape (column of 2 N floats), the forests (per cascade: trees
// of {splits: (idx1, idx2, threshold), leaf values: columns of 2 N}), the anchors and the deltas (per
// cascade, per feature pixel: the landmark it hangs on and its offset).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include <dlib/image_processing/shape_predictor.h>
#include <opencv2/core.hpp>

namespace facefleet::models {

class FlatShapePredictor {
 public:
  // The predictor in `bytes` (a whole .dat file), or null when the bytes are not exactly what this reader
  // understands: another version, dlib's old text float format, trees of different depths, truncation,
  // trailing bytes, out-of-range indices. Callers then fall back to dlib's own reader.
  static std::unique_ptr<FlatShapePredictor> Read(std::span<const std::uint8_t> bytes);

  long num_parts() const { return initial_shape_.size() / 2; }

  // The landmarks of the face in `rect` of the 8-bit grey `gray`, as dlib's shape_predictor::operator().
  // Const and without scratch state: safe to call from several threads.
  dlib::full_object_detection Predict(const cv::Mat& gray, const dlib::rectangle& rect) const;

 private:
  struct Split {
    std::uint32_t idx1 = 0;
    std::uint32_t idx2 = 0;
    float thresh = 0;
  };
  struct Cascade {
    std::vector<std::uint32_t> anchors;          // landmark of each feature pixel
    std::vector<dlib::vector<float, 2>> deltas;  // offset of each feature pixel from its landmark
    std::size_t first_tree = 0;
    std::size_t trees = 0;
  };
  friend class ErtReader;

  dlib::matrix<float, 0, 1> initial_shape_;
  std::vector<Cascade> cascades_;
  std::size_t splits_per_tree_ = 0;  // a full tree: leaves = splits + 1
  std::vector<Split> splits_;        // tree t's splits at [t * splits_per_tree_, ...)
  std::vector<float> leaves_;        // tree t's leaf l at [(t * (splits + 1) + l) * 2N, ...)
};

}  // namespace facefleet::models
