// A private redis-server for tests: a random free loopback port, a fresh data directory, AOF on (appendfsync
// everysec, no RDB snapshots), killed when the object goes away. The binary is `redis-server` from PATH, or
// $FACEFLEET_REDIS_SERVER.
//
// The server is started with PR_SET_PDEATHSIG, so it dies with the thread that started it even if the test
// crashes: create it on the test's main thread.
#pragma once

#include <string>
#include <vector>

#include <sys/types.h>

#include "redis/options.hpp"
#include "support/temp_dir.hpp"

namespace facefleet::testing {

struct RedisServerOptions {
  std::string password;  // non-empty: --requirepass
};

class RedisServer {
 public:
  explicit RedisServer(RedisServerOptions options = {});
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // Whether the server is running and answered PING; error() says why not.
  bool ok() const { return pid_ > 0; }
  const std::string& error() const { return error_; }
  std::string host() const { return "127.0.0.1"; }
  int port() const { return port_; }

  // Stops the server and waits for it: SIGTERM (a clean shutdown) or SIGKILL (a crash).
  void Stop(bool crash);
  // Starts it again on the same port and directory (it reloads its AOF). True once it answers PING.
  bool Start();
  bool Restart(bool crash) {
    Stop(crash);
    return Start();
  }

  // Runs one command on a fresh connection and returns every string or integer in the reply, flattened in order
  // (nil as ""), or {"ERR ..."} for an error reply or a failed connection.
  std::vector<std::string> Query(const std::vector<std::string>& args) const;

 private:
  bool Launch();
  bool WaitForPing();

  RedisServerOptions options_;
  TempDir dir_;
  int port_ = 0;
  pid_t pid_ = -1;
  std::string error_;
};

// One server per test process, started on first use (ctest runs each case in a process of its own; a whole-binary
// run shares it and keeps the cases apart with key prefixes). Call it first on the test's main thread.
RedisServer& SharedRedisServer();

// A key prefix no earlier call in this process returned: "<tag><pid>-<n>:".
std::string FreshRedisPrefix(const std::string& tag);

// Connection options for `server` that fail fast (0.5 s connect, 1 s per command, back-off up to 100 ms), so
// tests that stop the server see kUnavailable quickly.
redis::ConnectionOptions FastFailConnection(const RedisServer& server);

}  // namespace facefleet::testing
