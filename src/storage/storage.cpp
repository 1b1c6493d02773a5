// Key rules and the convenience calls shared by every Storage backend.
#include "storage/storage.hpp"

#include <array>
#include <cstdio>
#include <string>

namespace facefleet::storage {
namespace {

constexpr std::size_t kMaxKeyLength = 512;
// Messages quote at most this much of a key: a rejected key may be long or hostile, logs should stay readable.
constexpr std::size_t kMaxQuotedLength = 80;

bool IsKeyChar(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'; }

// 'key' in single quotes, non-printable bytes as \xNN, cut at kMaxQuotedLength.
std::string Quote(std::string_view key) {
  std::string out = "'";
  for (std::size_t i = 0; i < key.size() && i < kMaxQuotedLength; ++i) {
    const auto byte = static_cast<unsigned char>(key[i]);
    if (byte < 0x20 || byte >= 0x7f) {
      std::array<char, 8> hex{};
      std::snprintf(hex.data(), hex.size(), "\\x%02x", byte);
      out += hex.data();
    } else {
      out += key[i];
    }
  }
  if (key.size() > kMaxQuotedLength) out += "...";
  out += "'";
  return out;
}

Status Invalid(std::string_view what, std::string_view key, std::string_view why) {
  return {ErrorCode::kInvalidRequest, std::string(what) + " " + Quote(key) + ": " + std::string(why)};
}

// The segment rules of ValidateKey; `what` names the thing in the message ("storage key", "storage prefix").
Status CheckSegments(std::string_view what, std::string_view shown, std::string_view key) {
  if (key.empty()) return Invalid(what, shown, "empty");
  if (key.size() > kMaxKeyLength) return Invalid(what, shown, "longer than 512 bytes");
  std::size_t start = 0;
  while (true) {
    const std::size_t slash = key.find('/', start);
    const std::string_view segment =
        key.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (segment.empty()) return Invalid(what, shown, "empty segment (leading, trailing or double '/')");
    if (segment == "." || segment == "..") return Invalid(what, shown, "'.' and '..' segments are not allowed");
    if (segment.starts_with(kReservedSegmentPrefix)) {
      return Invalid(what, shown, "segments starting with '.tmp-' are reserved");
    }
    for (const char c : segment) {
      if (!IsKeyChar(c)) return Invalid(what, shown, "only [a-z0-9._-] segments separated by '/' are allowed");
    }
    if (slash == std::string_view::npos) return Status::Ok();
    start = slash + 1;
  }
}

}  // namespace

Status ValidateKey(std::string_view key) { return CheckSegments("storage key", key, key); }

Status ValidatePrefix(std::string_view prefix) {
  if (!prefix.ends_with('/')) return Invalid("storage prefix", prefix, "must end with '/'");
  // What precedes the '/' must itself be a valid key ("jobs/abc"), so no prefix can reach outside the key space.
  return CheckSegments("storage prefix", prefix, prefix.substr(0, prefix.size() - 1));
}

Result<ObjectInfo> Storage::Put(const std::string& key, std::string_view bytes, const std::string& content_type) {
  Result<std::unique_ptr<Writer>> writer = OpenWriter(key, content_type);
  if (!writer.ok()) return writer.status();
  if (Status status = (*writer)->Append(bytes); !status.ok()) return status;
  return (*writer)->Commit();
}

Result<std::string> Storage::Get(const std::string& key) {
  std::string out;
  const Status status = Read(key, 0, UINT64_MAX, [&out](std::string_view bytes) {
    out.append(bytes);
    return true;
  });
  if (!status.ok()) return status;
  return out;
}

}  // namespace facefleet::storage
