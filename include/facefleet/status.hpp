// facefleet/status.hpp — error values returned by every fallible facefleet call.
//
// Thread safety: Status and Result<T> are plain values; const access from several threads is safe.
// No exception crosses a facefleet public header: adapters catch OpenCV/ONNX Runtime/dlib exceptions and
// turn them into a Status.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace facefleet {

// One taxonomy for the whole product. Each code maps to one process exit code (CLI) and one HTTP status
// (service) in exactly one place: error_info() in src/core/status.cpp. Add codes at the end only.
enum class ErrorCode : std::uint8_t {
  kOk = 0,
  kInternal,          // a bug or an unexpected library failure
  kUsage,             // bad flags/options: unknown flag, value out of range, unsupported output extension
  kInputUnreadable,   // missing, empty, truncated or corrupt input file
  kUnsupportedMedia,  // readable bytes, but not a format we accept
  kNoFace,            // no face found where one is required
  kLimitExceeded,     // input larger than a configured limit (pixels, duration, size)
  kOutputFailed,      // output directory missing, not writable, disk full
  kModelUnavailable,  // a model file is missing, invalid or cannot be loaded
  kCanceled,          // the caller's stop token fired
  kNotFound,          // a named thing (job, key, model name) does not exist
  // Service errors (HTTP API, job queue, storage).
  kInvalidRequest,   // malformed HTTP request: bad multipart, invalid JSON, missing part, oversized header
  kConflict,         // state conflict: idempotency key reused with another body, result not ready, job finished
  kUnauthenticated,  // missing, unknown or revoked API key
  kRateLimited,      // per-key request rate or concurrent-jobs quota exceeded (HTTP adds Retry-After)
  kPayloadTooLarge,  // upload larger than the configured size limit
  kUnavailable,      // draining, not ready, or a backend (queue, storage) not answering; retry later
};

// Static facts about an ErrorCode. `name` is the stable snake_case identifier used in JSON and logs.
struct ErrorInfo {
  std::string_view name;
  int exit_code;    // process exit status for the CLI
  int http_status;  // HTTP status for the service
};

// Returns the facts for `code`; never fails.
const ErrorInfo& error_info(ErrorCode code) noexcept;

// The result of an operation that can fail: ok, or an ErrorCode with a one-line human message
// (which should name the file or option involved).
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }

  bool ok() const noexcept { return code_ == ErrorCode::kOk; }
  ErrorCode code() const noexcept { return code_; }
  const std::string& message() const noexcept { return message_; }

  // "no_face: source.jpg: no face found" — for logs and CLI output.
  std::string ToString() const;

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

// Either a T or a non-ok Status (std::expected is C++23; this is the small subset we need).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::move(value)) {}         // NOLINT(google-explicit-constructor): implicit by design
  Result(Status status) : data_(std::move(status)) {}  // NOLINT(google-explicit-constructor)
  Result(ErrorCode code, std::string message) : data_(Status(code, std::move(message))) {}

  bool ok() const noexcept { return std::holds_alternative<T>(data_); }
  // Precondition for value()/operator->: ok().
  T& value() & { return std::get<T>(data_); }
  const T& value() const& { return std::get<T>(data_); }
  T&& value() && { return std::get<T>(std::move(data_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  // The error, or an ok Status when a value is held.
  Status status() const { return ok() ? Status::Ok() : std::get<Status>(data_); }

 private:
  std::variant<T, Status> data_;
};

}  // namespace facefleet
