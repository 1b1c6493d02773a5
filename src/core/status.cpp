// The single place where ErrorCode meets exit codes and HTTP statuses.
#include "facefleet/status.hpp"

#include <array>

namespace facefleet {
namespace {

// Indexed by ErrorCode. Exit codes are documented in README.md ("Exit codes"); keep them stable.
constexpr std::array<ErrorInfo, 17> kErrorTable = {{
    {"ok", 0, 200},
    {"internal", 1, 500},
    {"usage", 2, 422},
    {"input_unreadable", 3, 422},
    {"unsupported_media", 3, 415},
    {"no_face", 4, 422},
    {"limit_exceeded", 5, 422},
    {"output_failed", 6, 500},
    {"model_unavailable", 7, 503},
    {"canceled", 8, 409},
    {"not_found", 9, 404},
    {"invalid_request", 2, 400},
    {"conflict", 10, 409},
    {"unauthenticated", 11, 401},
    {"rate_limited", 12, 429},
    {"payload_too_large", 5, 413},
    {"unavailable", 13, 503},
}};

}  // namespace

const ErrorInfo& error_info(ErrorCode code) noexcept {
  const auto index = static_cast<std::size_t>(code);
  return index < kErrorTable.size() ? kErrorTable[index] : kErrorTable[1];
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  std::string out(error_info(code_).name);
  out += ": ";
  out += message_;
  return out;
}

}  // namespace facefleet
