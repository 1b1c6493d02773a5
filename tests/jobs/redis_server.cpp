#include "redis_server.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

namespace facefleet::testing {
namespace {

// A port that was free a moment ago: bind to port 0 and ask which one the kernel chose.
int FreeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

void Flatten(const redisReply* reply, std::vector<std::string>& out) {
  switch (reply->type) {
    case REDIS_REPLY_ARRAY:
      for (std::size_t i = 0; i < reply->elements; ++i) Flatten(reply->element[i], out);
      break;
    case REDIS_REPLY_INTEGER:
      out.push_back(std::to_string(reply->integer));
      break;
    case REDIS_REPLY_NIL:
      out.emplace_back();
      break;
    default:
      out.emplace_back(reply->str, reply->len);
  }
}

// One command on `ctx`; the flattened reply.
std::vector<std::string> Run(redisContext* ctx, const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<std::size_t> lengths;
  for (const std::string& arg : args) {
    argv.push_back(arg.c_str());
    lengths.push_back(arg.size());
  }
  auto* reply =
      static_cast<redisReply*>(redisCommandArgv(ctx, static_cast<int>(argv.size()), argv.data(), lengths.data()));
  if (reply == nullptr) return {std::string("ERR connection: ") + ctx->errstr};
  std::vector<std::string> out;
  Flatten(reply, out);
  freeReplyObject(reply);
  return out;
}

}  // namespace

RedisServer::RedisServer(RedisServerOptions options) : options_(std::move(options)) {
  // Another process may take the port between the probe and redis-server's bind: try a few.
  for (int attempt = 0; attempt < 5 && pid_ <= 0; ++attempt) {
    port_ = FreeLoopbackPort();
    Start();
  }
}

RedisServer::~RedisServer() { Stop(/*crash=*/true); }

bool RedisServer::Start() {
  if (pid_ > 0) return true;
  return Launch() && WaitForPing();
}

bool RedisServer::Launch() {
  const char* binary = std::getenv("FACEFLEET_REDIS_SERVER");  // NOLINT(concurrency-mt-unsafe): never modified
  // Private data directory, AOF on with an fsync per second, no RDB snapshots.
  const std::vector<std::pair<std::string, std::string>> config = {{"port", std::to_string(port_)},
                                                                   {"bind", "127.0.0.1"},
                                                                   {"dir", dir_.path().string()},
                                                                   {"save", ""},
                                                                   {"appendonly", "yes"},
                                                                   {"appendfsync", "everysec"},
                                                                   {"daemonize", "no"},
                                                                   {"logfile", dir_.File("redis.log")}};
  std::vector<std::string> args = {binary != nullptr ? binary : "redis-server"};
  for (const auto& [name, value] : config) args.insert(args.end(), {"--" + name, value});
  if (!options_.password.empty()) args.insert(args.end(), {"--requirepass", options_.password});
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    error_ = "fork failed";
    return false;
  }
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(1);
    const int null = open("/dev/null", O_RDWR);
    dup2(null, STDIN_FILENO);
    dup2(null, STDOUT_FILENO);
    dup2(null, STDERR_FILENO);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  pid_ = pid;
  return true;
}

bool RedisServer::WaitForPing() {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::string last = "no answer";
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      std::ifstream log(dir_.File("redis.log"));
      std::stringstream text;
      text << log.rdbuf();
      error_ = "redis-server exited (status " + std::to_string(status) +
               (WIFEXITED(status) && WEXITSTATUS(status) == 127 ? ": not installed? run scripts/install-deps" : "") +
               "); log: " + text.str();
      return false;
    }
    // LOADING (AOF replay) and connection refused both mean: not yet.
    const std::vector<std::string> pong = Query({"PING"});
    if (pong.size() == 1 && pong[0] == "PONG") return true;
    last = pong.empty() ? "empty reply" : pong[0];
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  error_ = "redis-server on port " + std::to_string(port_) + " did not answer PING within 10 s: " + last;
  Stop(/*crash=*/true);
  return false;
}

void RedisServer::Stop(bool crash) {
  if (pid_ <= 0) return;
  kill(pid_, crash ? SIGKILL : SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::vector<std::string> RedisServer::Query(const std::vector<std::string>& args) const {
  redisContext* ctx = redisConnectWithTimeout(host().c_str(), port_, timeval{.tv_sec = 1, .tv_usec = 0});
  if (ctx == nullptr || ctx->err != 0) {
    std::vector<std::string> out = {std::string("ERR connect: ") + (ctx != nullptr ? ctx->errstr : "out of memory")};
    if (ctx != nullptr) redisFree(ctx);
    return out;
  }
  redisSetTimeout(ctx, timeval{.tv_sec = 5, .tv_usec = 0});
  if (!options_.password.empty()) {
    std::vector<std::string> auth = Run(ctx, {"AUTH", options_.password});
    if (auth.size() != 1 || auth[0] != "OK") {
      redisFree(ctx);
      return auth;
    }
  }
  std::vector<std::string> out = Run(ctx, args);
  redisFree(ctx);
  return out;
}

RedisServer& SharedRedisServer() {
  static RedisServer server;
  return server;
}

std::string FreshRedisPrefix(const std::string& tag) {
  static std::atomic<int> counter{0};
  return tag + std::to_string(getpid()) + "-" + std::to_string(++counter) + ":";
}

redis::ConnectionOptions FastFailConnection(const RedisServer& server) {
  redis::ConnectionOptions options;
  options.host = server.host();
  options.port = server.port();
  options.password.clear();
  options.connect_timeout = std::chrono::milliseconds(500);
  options.command_timeout = std::chrono::milliseconds(1000);
  options.reconnect_backoff_max = std::chrono::milliseconds(100);
  return options;
}

}  // namespace facefleet::testing
