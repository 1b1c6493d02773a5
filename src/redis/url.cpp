// The redis:// URL (redis/options.hpp): parsing, with the password kept out of every message, and the masked
// description used in logs.
#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <optional>
#include <utility>

#include "redis/options.hpp"

namespace facefleet::redis {
namespace {

// Decodes %XX escapes (user names and passwords with reserved characters must be percent-encoded in a URL).
Result<std::string> PercentDecode(std::string_view in, std::string_view what) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    unsigned value = 0;
    const char* begin = in.data() + i + 1;
    if (i + 2 >= in.size() || std::from_chars(begin, begin + 2, value, 16).ptr != begin + 2) {
      return Status(ErrorCode::kUsage, "redis URL: malformed percent-encoding in the " + std::string(what));
    }
    out += static_cast<char>(value);
    i += 2;
  }
  return out;
}

Result<int> ParseNumber(std::string_view text, int low, int high, std::string_view what) {
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < low || value > high) {
    // The text is not echoed: in a mistyped URL it may be a password.
    return Status(ErrorCode::kUsage, "redis URL: " + std::string(what) + " must be a number from " +
                                         std::to_string(low) + " to " + std::to_string(high));
  }
  return value;
}

// "host[:port]" or "[v6][:port]" into `options`.
Status ParseHostPort(std::string_view text, ConnectionOptions& options) {
  std::string_view host = text;
  std::optional<std::string_view> port;
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos) return {ErrorCode::kUsage, "redis URL: unterminated IPv6 address '['"};
    host = text.substr(1, close - 1);
    const std::string_view rest = text.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return {ErrorCode::kUsage, "redis URL: expected ':port' after ']'"};
    if (!rest.empty()) port = rest.substr(1);
  } else if (const std::size_t colon = text.find(':'); colon != std::string_view::npos) {
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (host.empty()) return {ErrorCode::kUsage, "redis URL: the host is missing (redis://host:port/db)"};
  options.host = std::string(host);
  if (port) {
    Result<int> number = ParseNumber(*port, 1, 65535, "the port");
    if (!number.ok()) return number.status();
    options.port = *number;
  }
  return Status::Ok();
}

}  // namespace

std::string Describe(const ConnectionOptions& options) {
  std::string out = "redis://";
  if (!options.username.empty() || !options.password.empty()) {
    out += options.username + (options.password.empty() ? "" : ":***") + "@";
  }
  const bool v6 = options.host.find(':') != std::string::npos;
  out += (v6 ? "[" + options.host + "]" : options.host) + ":" + std::to_string(options.port) + "/" +
         std::to_string(options.db);
  return out;
}

Result<ConnectionOptions> ParseUrl(std::string_view url) {
  constexpr std::string_view kScheme = "redis://";
  if (url.substr(0, 9) == "rediss://") {
    return Status(ErrorCode::kUsage,
                  "redis URL: TLS (rediss://) is not supported by this build (hiredis 0.14 has no TLS); reach Redis "
                  "over a private network or a local TLS tunnel and use redis://");
  }
  if (url.substr(0, kScheme.size()) != kScheme) {
    // Only the scheme is echoed: the rest may hold a password.
    return Status(ErrorCode::kUsage, "redis URL must look like redis://[user:password@]host:port/db, got scheme '" +
                                         std::string(url.substr(0, std::min(url.find(':'), std::size_t{16}))) + "'");
  }
  std::string_view rest = url.substr(kScheme.size());
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return Status(ErrorCode::kUsage, "redis URL: query parameters and fragments are not supported");
  }
  const std::size_t slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  const std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  ConnectionOptions options;
  // The last '@' ends the user info, so an unencoded '@' in a password still parses.
  const std::size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    const std::string_view info = authority.substr(0, at);
    const std::size_t colon = info.find(':');
    Result<std::string> user = PercentDecode(info.substr(0, colon), "user name");
    if (!user.ok()) return user.status();
    options.username = std::move(*user);
    if (colon != std::string_view::npos) {
      Result<std::string> password = PercentDecode(info.substr(colon + 1), "password");
      if (!password.ok()) return password.status();
      options.password = std::move(*password);
    }
  }
  if (Status s = ParseHostPort(authority.substr(at == std::string_view::npos ? 0 : at + 1), options); !s.ok()) {
    return s;
  }
  if (!path.empty()) {
    Result<int> db = ParseNumber(path, 0, 1'000'000, "the database index");
    if (!db.ok()) return db.status();
    options.db = *db;
  }
  if (options.password.empty()) {
    // NOLINTNEXTLINE(concurrency-mt-unsafe): read at start-up; nothing in facefleet modifies the environment
    if (const char* env = std::getenv("FACEFLEET_REDIS_PASSWORD"); env != nullptr) options.password = env;
  }
  return options;
}

}  // namespace facefleet::redis
