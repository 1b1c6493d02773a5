#include "models/dlib_ert.hpp"

#include <cmath>
#include <limits>

namespace facefleet::models {

// Cursor over dlib's binary format, filling a FlatShapePredictor. Every read returns false on malformed or
// missing bytes; the caller stops at the first false.
class ErtReader {
 public:
  explicit ErtReader(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}

  bool Predictor(FlatShapePredictor& p) {
    std::int64_t version = 0;
    std::size_t cascades = 0;
    if (!Signed(version) || version != 1 || !Column(p.initial_shape_) || p.initial_shape_.size() % 2 != 0 ||
        !Count(cascades)) {
      return false;
    }
    p.cascades_.resize(cascades);
    for (auto& cascade : p.cascades_) {
      cascade.first_tree = p.splits_.empty() ? 0 : p.splits_.size() / p.splits_per_tree_;
      if (!Count(cascade.trees)) return false;
      for (std::size_t t = 0; t < cascade.trees; ++t) {
        if (!Tree(p, cascades)) return false;
      }
    }
    return Anchors(p) && Deltas(p) && at_ == bytes_.size() && IndicesInRange(p);
  }

 private:
  bool Tree(FlatShapePredictor& p, std::size_t cascades) {
    std::size_t splits = 0, leaves = 0;
    if (!Count(splits) || splits == 0 || (p.splits_per_tree_ != 0 && splits != p.splits_per_tree_)) return false;
    if (p.splits_per_tree_ == 0) {  // the first tree: reserve for all, assuming every forest is as large
      p.splits_per_tree_ = splits;
      const std::size_t trees = cascades * p.cascades_[0].trees;
      p.splits_.reserve(trees * splits);
      p.leaves_.reserve(trees * (splits + 1) * static_cast<std::size_t>(p.initial_shape_.size()));
    }
    for (std::size_t i = 0; i < splits; ++i) {
      std::uint64_t idx1 = 0, idx2 = 0;
      float thresh = 0;
      if (!Unsigned(idx1) || !Unsigned(idx2) || !Float(thresh) || idx1 > UINT32_MAX || idx2 > UINT32_MAX) return false;
      p.splits_.push_back({static_cast<std::uint32_t>(idx1), static_cast<std::uint32_t>(idx2), thresh});
    }
    if (!Count(leaves) || leaves != splits + 1) return false;
    for (std::size_t l = 0; l < leaves; ++l) {
      std::int64_t rows = 0, cols = 0;
      if (!Signed(rows) || !Signed(cols) || std::abs(rows) != p.initial_shape_.size() || std::abs(cols) != 1) {
        return false;
      }
      for (long k = 0; k < p.initial_shape_.size(); ++k) {
        float v = 0;
        if (!Float(v)) return false;
        p.leaves_.push_back(v);
      }
    }
    return true;
  }

  bool Anchors(FlatShapePredictor& p) {
    std::size_t cascades = 0;
    if (!Count(cascades) || cascades != p.cascades_.size()) return false;
    for (auto& cascade : p.cascades_) {
      std::size_t n = 0;
      if (!Count(n)) return false;
      cascade.anchors.resize(n);
      for (auto& a : cascade.anchors) {
        std::uint64_t v = 0;
        if (!Unsigned(v) || v >= static_cast<std::uint64_t>(p.num_parts())) return false;
        a = static_cast<std::uint32_t>(v);
      }
    }
    return true;
  }

  bool Deltas(FlatShapePredictor& p) {
    std::size_t cascades = 0;
    if (!Count(cascades) || cascades != p.cascades_.size()) return false;
    for (auto& cascade : p.cascades_) {
      std::size_t n = 0;
      if (!Count(n) || n != cascade.anchors.size()) return false;
      cascade.deltas.resize(n);
      for (auto& d : cascade.deltas) {
        if (!Float(d.x()) || !Float(d.y())) return false;
      }
    }
    return true;
  }

  static bool IndicesInRange(const FlatShapePredictor& p) {
    for (const auto& cascade : p.cascades_) {
      for (std::size_t s = cascade.first_tree * p.splits_per_tree_;
           s < (cascade.first_tree + cascade.trees) * p.splits_per_tree_; ++s) {
        if (p.splits_[s].idx1 >= cascade.anchors.size() || p.splits_[s].idx2 >= cascade.anchors.size()) return false;
      }
    }
    return true;
  }

  bool Column(dlib::matrix<float, 0, 1>& column) {
    std::int64_t rows = 0, cols = 0;
    if (!Signed(rows) || !Signed(cols) || std::abs(cols) != 1) return false;
    rows = std::abs(rows);
    if (static_cast<std::uint64_t>(rows) > bytes_.size() - at_) return false;
    column.set_size(rows);
    for (std::int64_t r = 0; r < rows; ++r) {
      if (!Float(column(r))) return false;
    }
    return true;
  }

  // A vector's size, refused when the bytes left could not hold that many items (each takes >= 1 byte).
  bool Count(std::size_t& count) {
    std::uint64_t n = 0;
    if (!Unsigned(n) || n > bytes_.size() - at_) return false;
    count = static_cast<std::size_t>(n);
    return true;
  }

  bool Float(float& value) {
    std::int64_t mantissa = 0, exponent = 0;
    if (!Signed(mantissa) || !Signed(exponent)) return false;  // dlib's old text format fails the control check
    constexpr std::int64_t kInf = 32000, kNegInf = 32001;      // dlib's float_details markers (32002: NaN)
    if (exponent < kInf) {
      value = std::ldexp(static_cast<float>(mantissa), static_cast<int>(exponent));  // as float_details
    } else {
      value = exponent == kInf      ? std::numeric_limits<float>::infinity()
              : exponent == kNegInf ? -std::numeric_limits<float>::infinity()
                                    : std::numeric_limits<float>::quiet_NaN();
    }
    return true;
  }

  bool Signed(std::int64_t& value) {
    const int control = Control();
    if (control < 0 || !Magnitude(control & 0x0F, value)) return false;
    if ((control & 0x80) != 0) value = -value;
    return true;
  }

  bool Unsigned(std::uint64_t& value) {
    const int control = Control();
    std::int64_t magnitude = 0;
    // dlib reads the size of an unsigned value as control & 0x8F: a sign bit makes it invalid.
    if (control < 0 || (control & 0x80) != 0 || !Magnitude(control & 0x0F, magnitude)) return false;
    value = static_cast<std::uint64_t>(magnitude);
    return true;
  }

  // The next control byte, or -1 at the end or when bits 0x70 are set (never in the binary format).
  int Control() {
    if (at_ >= bytes_.size() || (bytes_[at_] & 0x70) != 0) return -1;
    return bytes_[at_++];
  }

  bool Magnitude(int size, std::int64_t& value) {
    if (size == 0 || size > 8 || bytes_.size() - at_ < static_cast<std::size_t>(size)) return false;
    std::uint64_t v = 0;
    for (int i = size - 1; i >= 0; --i) v = (v << 8) | bytes_[at_ + static_cast<std::size_t>(i)];
    at_ += static_cast<std::size_t>(size);
    value = static_cast<std::int64_t>(v);
    return true;
  }

  std::span<const std::uint8_t> bytes_;
  std::size_t at_ = 0;
};

std::unique_ptr<FlatShapePredictor> FlatShapePredictor::Read(std::span<const std::uint8_t> bytes) {
  auto predictor = std::make_unique<FlatShapePredictor>();
  if (!ErtReader(bytes).Predictor(*predictor)) return nullptr;
  return predictor;
}

dlib::full_object_detection FlatShapePredictor::Predict(const cv::Mat& gray, const dlib::rectangle& rect) const {
  // The expressions below are dlib's (shape_predictor::operator() and impl::extract_feature_pixel_values),
  // with the same types, so every float operation and every rounding to a pixel is the same.
  dlib::matrix<float, 0, 1> shape = initial_shape_;
  const dlib::point_transform_affine to_image = dlib::impl::unnormalizing_tform(rect);
  const auto dims = static_cast<std::size_t>(shape.size());
  std::vector<float> pixels;
  for (const Cascade& cascade : cascades_) {
    const dlib::matrix<float, 2, 2> tform =
        dlib::matrix_cast<float>(dlib::impl::find_tform_between_shapes(initial_shape_, shape).get_m());
    pixels.resize(cascade.anchors.size());
    for (std::size_t i = 0; i < pixels.size(); ++i) {
      const dlib::point p = to_image(tform * cascade.deltas[i] + dlib::impl::location(shape, cascade.anchors[i]));
      const bool inside = p.x() >= 0 && p.y() >= 0 && p.x() < gray.cols && p.y() < gray.rows;
      pixels[i] = inside ? gray.at<std::uint8_t>(static_cast<int>(p.y()), static_cast<int>(p.x())) : 0.0F;
    }
    for (std::size_t t = cascade.first_tree; t < cascade.first_tree + cascade.trees; ++t) {
      const Split* splits = &splits_[t * splits_per_tree_];
      std::size_t node = 0;
      while (node < splits_per_tree_) {  // full binary tree: children of n are 2n + 1 (left) and 2n + 2
        const Split& s = splits[node];
        node = pixels[s.idx1] - pixels[s.idx2] > s.thresh ? 2 * node + 1 : 2 * node + 2;
      }
      const float* leaf = &leaves_[(t * (splits_per_tree_ + 1) + (node - splits_per_tree_)) * dims];
      for (std::size_t k = 0; k < dims; ++k) shape(static_cast<long>(k)) += leaf[k];
    }
  }
  std::vector<dlib::point> parts(dims / 2);
  for (std::size_t i = 0; i < parts.size(); ++i) parts[i] = to_image(dlib::impl::location(shape, i));
  return dlib::full_object_detection(rect, parts);
}

}  // namespace facefleet::models
