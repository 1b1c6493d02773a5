// Where and how to reach one Redis server: the options every Redis client of facefleet shares (the job queue,
// the API key store, the rate limiter) and the redis:// URL that sets them. No hiredis here, so any module may
// include it; the client itself is redis/client.hpp.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "facefleet/status.hpp"

namespace facefleet::redis {

struct ConnectionOptions {
  std::string host = "127.0.0.1";
  int port = 6379;
  int db = 0;
  std::string username;  // ACL user; "" = the default user
  std::string password;  // "" = no AUTH. Never logged and never part of an error message.
  std::chrono::milliseconds connect_timeout{2'000};
  std::chrono::milliseconds command_timeout{5'000};  // per command, on top of a blocking command's own wait
  // After a failed connect, calls fail fast with kUnavailable for a back-off that doubles from the minimum up to
  // the maximum; the first call after it tries to connect again.
  std::chrono::milliseconds reconnect_backoff_min{50};
  std::chrono::milliseconds reconnect_backoff_max{1'000};
  std::size_t max_idle_connections = 16;  // pooled connections kept open between calls
};

// "redis://[user[:password]@]host[:port][/db]" (user and password percent-decoded; port 6379 and db 0 by
// default; IPv6 hosts in brackets). The password may also come from the environment variable
// FACEFLEET_REDIS_PASSWORD, used when the URL has none (keeps it out of command lines). kUsage when malformed;
// the message never contains the password.
Result<ConnectionOptions> ParseUrl(std::string_view url);

// "redis://user:***@host:port/db": where a client connects, for logs and error messages (password masked).
std::string Describe(const ConnectionOptions& options);

}  // namespace facefleet::redis
