// facefleet/types.hpp — plain value types shared by the public API: images and faces.
//
// All coordinates are in pixels of the image they were measured on, origin top-left, x right, y down.
// These are plain values without invariants beyond the field comments; copying is always safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace facefleet {

struct Point2 {
  float x = 0;
  float y = 0;
};

struct Box {
  float x = 0;  // left
  float y = 0;  // top
  float width = 0;
  float height = 0;

  float area() const { return width * height; }
  Point2 center() const { return {x + width / 2, y + height / 2}; }
};

// Indices into Face::landmark5, in the order every alignment template uses.
enum Landmark5 : std::uint8_t { kLeftEye = 0, kRightEye, kNoseTip, kMouthLeft, kMouthRight };

// One detected face. "Left" is image-left (smaller x), i.e. the subject's right side.
struct Face {
  Box box;
  float score = 0;                    // detector confidence; larger is better (scale is detector-specific)
  std::array<Point2, 5> landmark5;    // eye centres, nose tip, mouth corners (see Landmark5)
  std::array<Point2, 68> landmark68;  // iBUG 300-W 68-point layout (jaw 0-16, brows 17-26, nose 27-35,
                                      // eyes 36-47, mouth 48-67); valid when has_landmark68
  bool has_landmark68 = false;
};

// An 8-bit image, rows tightly packed, channels interleaved in BGR or BGRA order (OpenCV's convention,
// also FaceFusion's). Owns its pixels.
struct Image {
  int width = 0;
  int height = 0;
  int channels = 3;                  // 3 = BGR, 4 = BGRA
  std::vector<std::uint8_t> pixels;  // size == width * height * channels

  bool empty() const { return width <= 0 || height <= 0 || pixels.empty(); }
  std::size_t row_bytes() const { return static_cast<std::size_t>(width) * channels; }
};

}  // namespace facefleet
