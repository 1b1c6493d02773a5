// facefleet health: asks a running `facefleet serve` or `facefleet worker` whether it is alive (GET /healthz by
// default) and exits 0 when it answers 2xx. It exists so the container image's HEALTHCHECK needs no shell and no
// curl: the image runs `facefleet health` in exec form. --port reads FACEFLEET_PORT like serve and worker do, so
// one environment variable points both the server and its health check at the same port.
#include <httplib.h>

#include <cstdio>
#include <string>
#include <vector>

#include "commands.hpp"
#include "common/flags.hpp"

namespace facefleet::apps {
namespace {

FlagSet HealthFlags() {
  FlagSet flags("health", "Exit 0 when the facefleet server on --host:--port answers GET --path with 2xx.");
  flags.Add({"--host", "ADDR", "address of the server (0.0.0.0 and :: mean this host)", "127.0.0.1"});
  flags.Add({"--port", "PORT", "its port", "8080"});
  flags.Add({"--path", "PATH", "endpoint to ask (/readyz: ready for jobs)", "/healthz"});
  flags.Add({"--timeout", "SECONDS", "give up after this long", "3"});
  return flags;
}

// A wildcard listen address is not a destination; the server is reachable on loopback.
std::string ConnectHost(const std::string& host) {
  if (host == "0.0.0.0" || host.empty()) return "127.0.0.1";
  if (host == "::" || host == "[::]") return "::1";
  return host;
}

}  // namespace

int RunHealth(const std::vector<std::string>& args) {
  FlagSet flags = HealthFlags();
  if (Status parsed = flags.Parse(args); !parsed.ok()) return ReportError("health", parsed);
  if (flags.HelpRequested()) {
    std::fputs(flags.Help().c_str(), stdout);
    return 0;
  }
  Checker c;
  const auto port = static_cast<int>(c.Take(flags.GetInt("--port", 1, 65535)));
  const auto timeout = static_cast<time_t>(c.Take(flags.GetInt("--timeout", 1, 300)));
  const std::string path = flags.Get("--path");
  if (path.empty() || path.front() != '/') c.Take(Status(ErrorCode::kUsage, "--path must start with '/'"));
  if (!c.status().ok()) return ReportError("health", c.status());

  const std::string host = ConnectHost(flags.Get("--host"));
  httplib::Client client(host, port);
  client.set_connection_timeout(timeout, 0);
  client.set_read_timeout(timeout, 0);
  const std::string where = "http://" + host + ":" + std::to_string(port) + path;
  const httplib::Result response = client.Get(path);
  if (!response) {
    return ReportError("health", {ErrorCode::kUnavailable, where + ": " + httplib::to_string(response.error())});
  }
  if (response->status < 200 || response->status > 299) {
    return ReportError("health", {ErrorCode::kUnavailable, where + " answered " + std::to_string(response->status)});
  }
  std::printf("%s: %d\n", where.c_str(), response->status);
  return 0;
}

}  // namespace facefleet::apps
