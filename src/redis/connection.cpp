// Redis connections (redis/client.hpp): the hiredis context wrapper, the pool with its reconnect back-off and the
// mapping of Redis errors to Status.
//
// Why a pool: hiredis contexts are not thread-safe and a Lease may block on its connection for seconds, so every
// call borrows a context of its own. An idle context is checked (non-blocking poll) before reuse: a server that
// restarted closed it, and sending a command on it would fail a call that a fresh connection serves fine.
#include <poll.h>

#include <algorithm>
#include <array>
#include <utility>

#include <sys/time.h>

#include "redis/client.hpp"

namespace facefleet::redis {

timeval ToTimeval(std::chrono::milliseconds ms) {
  const auto count = std::max<std::chrono::milliseconds::rep>(ms.count(), 1);
  return timeval{.tv_sec = static_cast<time_t>(count / 1000), .tv_usec = static_cast<suseconds_t>(count % 1000 * 1000)};
}

std::string_view Text(const redisReply& reply) {
  const bool text =
      reply.type == REDIS_REPLY_STRING || reply.type == REDIS_REPLY_STATUS || reply.type == REDIS_REPLY_ERROR;
  return text ? std::string_view(reply.str, reply.len) : std::string_view();
}

Status ErrorReply(const redisReply& reply, std::string_view what) {
  const std::string_view text = Text(reply);
  // Conditions that end on their own or need an operator, not a code fix: the caller may retry later.
  static constexpr std::array<std::string_view, 10> kTransient = {
      "LOADING", "BUSY", "MASTERDOWN", "TRYAGAIN", "READONLY", "OOM", "NOAUTH", "WRONGPASS", "NOPERM", "CLUSTERDOWN"};
  const bool transient = std::any_of(kTransient.begin(), kTransient.end(),
                                     [&](std::string_view prefix) { return text.substr(0, prefix.size()) == prefix; });
  return {transient ? ErrorCode::kUnavailable : ErrorCode::kInternal,
          "redis " + std::string(what) + ": " + std::string(text)};
}

class Connection {
 public:
  Connection(redisContext* ctx, std::string where) : ctx_(ctx), where_(std::move(where)) {}
  ~Connection() { redisFree(ctx_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  static Result<std::unique_ptr<Connection>> Open(const ConnectionOptions& options, const std::string& where);

  // Sends one command and waits up to `timeout` for its reply.
  Result<Reply> Command(const Args& args, std::chrono::milliseconds timeout);

  // The context saw a transport error; it cannot be used again.
  bool Broken() const { return ctx_->err != 0; }

  // The server closed this idle connection (or sent something unasked): readable without a pending command.
  bool PeerClosed() const {
    pollfd fd{.fd = ctx_->fd, .events = POLLIN, .revents = 0};
    return poll(&fd, 1, 0) != 0;
  }

 private:
  redisContext* ctx_;
  std::string where_;
  std::chrono::milliseconds timeout_{0};  // the socket timeout currently set
};

Result<Reply> Connection::Command(const Args& args, std::chrono::milliseconds timeout) {
  if (timeout != timeout_) {
    if (redisSetTimeout(ctx_, ToTimeval(timeout)) != REDIS_OK) {
      return Status(ErrorCode::kUnavailable, where_ + ": cannot set the socket timeout: " + ctx_->errstr);
    }
    timeout_ = timeout;
  }
  std::vector<const char*> argv;
  std::vector<std::size_t> lengths;
  argv.reserve(args.size());
  lengths.reserve(args.size());
  for (const std::string& arg : args) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  auto* reply =
      static_cast<redisReply*>(redisCommandArgv(ctx_, static_cast<int>(argv.size()), argv.data(), lengths.data()));
  if (reply != nullptr) return Reply(reply);
  // A blocking socket that hit its timeout reports EAGAIN ("Resource temporarily unavailable").
  const std::string cause =
      ctx_->err == REDIS_ERR_IO && std::string_view(ctx_->errstr).find("temporarily") != std::string_view::npos
          ? "no reply within " + std::to_string(timeout.count()) + " ms"
          : std::string(ctx_->errstr);
  return Status(ErrorCode::kUnavailable, where_ + ": " + (args.empty() ? "" : args[0]) + " failed: " + cause);
}

Result<std::unique_ptr<Connection>> Connection::Open(const ConnectionOptions& options, const std::string& where) {
  redisContext* ctx = redisConnectWithTimeout(options.host.c_str(), options.port, ToTimeval(options.connect_timeout));
  if (ctx == nullptr) return Status(ErrorCode::kUnavailable, "cannot connect to " + where + ": out of memory");
  auto conn = std::make_unique<Connection>(ctx, where);
  if (ctx->err != 0) return Status(ErrorCode::kUnavailable, "cannot connect to " + where + ": " + ctx->errstr);
  redisEnableKeepAlive(ctx);
  // Setup failures other than transport ones are configuration errors: kUsage, with the server's reason (Redis
  // never echoes the password).
  const auto setup = [&](const Args& args, const std::string& what) -> Status {
    Result<Reply> reply = conn->Command(args, options.command_timeout);
    if (!reply.ok()) return reply.status();
    if ((*reply)->type != REDIS_REPLY_ERROR) return Status::Ok();
    const std::string_view text = Text(**reply);
    if (text.substr(0, 6) == "NOAUTH") {
      return {ErrorCode::kUsage, where + " requires a password: put it in the URL or in FACEFLEET_REDIS_PASSWORD"};
    }
    if (text.substr(0, 7) == "LOADING" || text.substr(0, 4) == "BUSY") return ErrorReply(**reply, what);
    return {ErrorCode::kUsage, where + ": " + what + " failed: " + std::string(text)};
  };
  if (!options.password.empty() || !options.username.empty()) {
    const Args auth =
        options.username.empty() ? Args{"AUTH", options.password} : Args{"AUTH", options.username, options.password};
    if (Status s = setup(auth, "authentication (AUTH)"); !s.ok()) return s;
  }
  if (options.db != 0) {
    if (Status s = setup({"SELECT", std::to_string(options.db)}, "SELECT"); !s.ok()) return s;
  }
  // Proves the connection usable (no password needed but missing, data still loading) before it is pooled.
  if (Status s = setup({"PING"}, "PING"); !s.ok()) return s;
  return conn;
}

Pool::Pool(const ConnectionOptions& options) : options_(options), where_(Describe(options_)) {}

Pool::~Pool() = default;

Result<std::unique_ptr<Connection>> Pool::Acquire() {
  std::vector<std::unique_ptr<Connection>> closed;  // freed outside the lock
  {
    std::lock_guard lock(mutex_);
    while (!idle_.empty()) {
      std::unique_ptr<Connection> conn = std::move(idle_.back());
      idle_.pop_back();
      if (!conn->PeerClosed()) return conn;
      closed.push_back(std::move(conn));
    }
    const auto now = std::chrono::steady_clock::now();
    if (now < retry_after_) {
      const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(retry_after_ - now);
      return Status(ErrorCode::kUnavailable,
                    last_error_ + " (next attempt in " + std::to_string(wait.count()) + " ms)");
    }
  }
  Result<std::unique_ptr<Connection>> conn = Connection::Open(options_, where_);
  std::lock_guard lock(mutex_);
  if (!conn.ok()) {
    backoff_ =
        backoff_.count() == 0 ? options_.reconnect_backoff_min : std::min(backoff_ * 2, options_.reconnect_backoff_max);
    retry_after_ = std::chrono::steady_clock::now() + backoff_;
    last_error_ = conn.status().message();
    // Whatever the cause (down, credentials changed), the server is unusable until Redis answers again.
    return Status(ErrorCode::kUnavailable, last_error_);
  }
  backoff_ = std::chrono::milliseconds(0);
  retry_after_ = {};
  return conn;
}

void Pool::Release(std::unique_ptr<Connection> conn) {
  std::lock_guard lock(mutex_);
  if (idle_.size() < options_.max_idle_connections) idle_.push_back(std::move(conn));
}

Result<Reply> Pool::Run(const Args& args, std::chrono::milliseconds block) {
  Result<std::unique_ptr<Connection>> conn = Acquire();
  if (!conn.ok()) return conn.status();
  Result<Reply> reply = (*conn)->Command(args, options_.command_timeout + block);
  if (!(*conn)->Broken()) Release(std::move(*conn));
  return reply;
}

Status Pool::Probe() { return Connection::Open(options_, where_).status(); }

}  // namespace facefleet::redis
