// Helpers of the scale-out test (cluster_test.cpp): facefleet processes of any subcommand, a small client of the
// job API, a hand-written MJPEG AVI (a video target without libav in the test) and a few measurements.
#pragma once

#include <httplib.h>
#include <signal.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/types.h>

namespace facefleet::testing {

using json = nlohmann::json;

// Polls `done` every `interval` until it holds or `timeout` passes; returns its last value.
template <typename Pred>
bool WaitUntil(Pred done, std::chrono::milliseconds timeout,
               std::chrono::milliseconds interval = std::chrono::milliseconds(50)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(interval);
  }
}

std::string ReadFile(const std::string& path);

// A loopback TCP port nothing listens on (bound and released a moment ago).
int UnusedLoopbackPort();

// One `facefleet <subcommand> ...` process (CliPath(), environment without FACEFLEET_* variables). stdout and
// stderr are appended to <log_prefix>.out and <log_prefix>.err. Unlike ServeProcess (tests/e2e) it runs any
// subcommand and dies with the thread that started it (PR_SET_PDEATHSIG), so a crashed or timed-out test leaves
// no worker behind: start it on the test's main thread. The destructor kills (SIGKILL) and reaps it.
class CliProcess {
 public:
  CliProcess() = default;
  ~CliProcess() { Kill(); }
  CliProcess(const CliProcess&) = delete;
  CliProcess& operator=(const CliProcess&) = delete;

  bool Launch(const std::vector<std::string>& args, const std::string& log_prefix, std::string* error);
  // Waits until stdout has a line containing "<marker>http://HOST:PORT" and takes the port from it. False (with
  // the process's output in *error) when the process exits first or `timeout` passes.
  bool WaitForUrl(std::string_view marker, std::chrono::milliseconds timeout, std::string* error);

  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }
  int port() const { return port_; }
  std::string Stdout() const { return ReadFile(log_prefix_ + ".out"); }
  std::string Stderr() const { return ReadFile(log_prefix_ + ".err"); }
  // The API key `facefleet serve` printed when it created one ("" if none).
  std::string GeneratedKey() const;

  void Signal(int signal) const {
    if (pid_ > 0) ::kill(pid_, signal);
  }
  // The exit status (128 + N for signal N) once the process has exited, or nullopt after `timeout`.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  void Kill();  // SIGKILL and reap; no-op when not running

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  std::string log_prefix_;
};

// GET http://127.0.0.1:port/path: the status, 0 when nothing answered.
int HttpStatus(int port, const std::string& path, std::string* body = nullptr);

// A client of one API server (one per thread: httplib clients are not shared between threads).
class Api {
 public:
  struct Reply {
    int status = 0;  // 0: no HTTP response
    json body;
    std::string raw;
    std::string transport_error;
  };

  Api(int port, std::string key);

  Reply Get(const std::string& path);
  // POST /v1/jobs with one source, a target and the options; a non-empty idempotency key is sent along.
  Reply Submit(const std::string& source, const std::string& target, const std::string& idempotency_key = "",
               const std::string& options = "{}");
  // Every job of this key, `page_size` at a time through next_cursor; nullopt on an error.
  std::optional<std::vector<json>> ListAll(int page_size = 100);
  // GET /v1/jobs/{id}/result.
  httplib::Result Download(const std::string& id);

 private:
  httplib::Headers Auth() const { return {{"Authorization", "Bearer " + key_}}; }
  static Reply Wrap(const httplib::Result& result);

  httplib::Client client_;
  std::string key_;
};

// A PNG signature followed by an IHDR chunk of the given size.
::testing::AssertionResult IsPng(const std::string& bytes, std::uint32_t width, std::uint32_t height);

// Width and height from a JPEG's first SOF marker; nullopt when there is none.
std::optional<std::pair<int, int>> JpegSize(const std::string& jpeg);

// An AVI file whose video stream is `frames` copies of `jpeg` (Motion JPEG) at `fps`: a video target built
// without any media library (RIFF lists, stream header, BITMAPINFOHEADER, movi chunks and an idx1 index).
std::string MjpegAvi(const std::string& jpeg, int frames, int fps);

// Milliseconds since the epoch of an RFC 3339 UTC time with milliseconds ("2026-01-02T03:04:05.678Z"), as the API
// writes them; nullopt for anything else.
std::optional<std::int64_t> ParseRfc3339Ms(const std::string& text);

// Nearest-rank percentile (0 < p <= 100) of `values` (sorted here); 0 for none.
double Percentile(std::vector<double> values, double p);

}  // namespace facefleet::testing
