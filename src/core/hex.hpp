// Lower-case hexadecimal encoding of bytes (digests in logs, headers and stored hashes; opaque cursors).
// Header-only and allocation-bounded: the result is exactly 2 × size characters. Thread-safe (no state).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace facefleet::core {

inline std::string HexLower(const unsigned char* data, std::size_t size) {
  static constexpr std::string_view kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out += kDigits[data[i] >> 4U];
    out += kDigits[data[i] & 0xFU];
  }
  return out;
}

inline std::string HexLower(std::string_view bytes) {
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): char and unsigned char alias by the standard.
  return HexLower(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
}

}  // namespace facefleet::core
