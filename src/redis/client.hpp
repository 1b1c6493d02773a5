// A small Redis client on hiredis, shared by every facefleet module that keeps state in Redis (the job queue,
// the API key store, the rate limiter): a connection pool with reconnect back-off, the mapping of Redis errors to
// Status, and Lua scripts run by SHA with a fallback to their text.
//
// Thread safety: Pool and Script may be used from any thread (each call borrows a connection of its own).
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <hiredis/hiredis.h>

#include "facefleet/status.hpp"
#include "redis/options.hpp"

namespace facefleet::redis {

struct ReplyFree {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using Reply = std::unique_ptr<redisReply, ReplyFree>;
using Args = std::vector<std::string>;

// The text of a string-like reply (bulk string, status, error); "" for any other type.
std::string_view Text(const redisReply& reply);
// A Status for an error reply: kUnavailable for the conditions that pass (loading, busy script, failover,
// out of memory, credentials changed), kInternal otherwise. `what` names the operation.
Status ErrorReply(const redisReply& reply, std::string_view what);

// One hiredis context. Not thread-safe: the pool hands it to one caller at a time.
class Connection;

// Connections to one server, opened on demand and kept for reuse (at most max_idle_connections idle).
// Thread-safe.
class Pool {
 public:
  explicit Pool(const ConnectionOptions& options);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // Runs one command on a pooled connection and returns its reply, error replies included (the caller decides
  // what they mean). `block` extends the reply timeout for a blocking command. Transport failures (refused,
  // reset, timed out) and connects during the reconnect back-off are kUnavailable.
  Result<Reply> Run(const Args& args, std::chrono::milliseconds block = std::chrono::milliseconds(0));

  // Opens a fresh connection and closes it: kUsage when the server rejects the credentials or the database
  // index (a configuration error), kUnavailable when it does not answer. For start-up checks.
  Status Probe();

  // "redis://user:***@host:port/db" for messages.
  const std::string& where() const { return where_; }

 private:
  Result<std::unique_ptr<Connection>> Acquire();
  void Release(std::unique_ptr<Connection> conn);

  const ConnectionOptions options_;
  const std::string where_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Connection>> idle_;  // guarded by mutex_
  // Reconnect back-off, guarded by mutex_: no connect is tried before retry_after_.
  std::chrono::steady_clock::time_point retry_after_;
  std::chrono::milliseconds backoff_{0};
  std::string last_error_;
};

// One Lua script, run atomically by the server. It is sent by SHA-1 (EVALSHA, computed here from the text) and
// its text goes over the wire only when the server does not know it yet (first use, or after a restart or SCRIPT
// FLUSH emptied its script cache: NOSCRIPT, then EVAL). Immutable, so thread-safe.
class Script {
 public:
  explicit Script(std::string text);

  // SCRIPT LOAD: proves the server accepts the script (a syntax error shows at start-up, not on first use).
  Status Load(Pool& pool) const;
  // The script's reply for these KEYS and ARGV. Error replies become a Status (see ErrorReply).
  Result<Reply> Run(Pool& pool, const Args& keys, const Args& argv) const;

  const std::string& sha() const { return sha_; }

 private:
  std::string text_;
  std::string sha_;  // lower-case hex SHA-1 of text_, as Redis names scripts
};

}  // namespace facefleet::redis
