// A tiny HTTP/1.1 server for tests: listens on 127.0.0.1 only (ephemeral port), serves in-memory files with
// Range support and scripted faults, and records every request it answers.
//
// One background thread handles one connection at a time and closes it after each response ("Connection:
// close"), which is all a download client needs. Socket reads and writes time out after 5 s, so a stuck client
// cannot hang a test. Thread safety: every public method may be called from any thread while the server runs.
#pragma once

#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace facefleet::testing {

class HttpTestServer {
 public:
  struct Request {
    std::string path;
    std::string range;       // the Range header's value, "" when absent
    std::string user_agent;  // the User-Agent header's value
    int status = 0;          // what the server answered
  };

  // Binds and starts serving; throws std::runtime_error when the socket cannot be set up.
  HttpTestServer();
  // Stops the thread (bounded by the socket timeouts) and closes the socket.
  ~HttpTestServer();
  HttpTestServer(const HttpTestServer&) = delete;
  HttpTestServer& operator=(const HttpTestServer&) = delete;

  int port() const { return port_; }
  std::string url() const;  // "http://127.0.0.1:<port>"

  // GET `path` returns `body` (200, or 206 for a satisfiable "Range: bytes=A-" / "bytes=A-B"; 416 otherwise).
  void Serve(const std::string& path, std::string body);
  // The next `times` requests for `path` get HTTP `status` with a short text body (times < 0: every request).
  void Fail(const std::string& path, int status, int times = -1);
  // The first request for `path` gets complete headers but only `bytes` bytes of the body, then the
  // connection is closed.
  void CutAfter(const std::string& path, std::size_t bytes);
  // `path` answers 302 Found with `location` (a path on this server or a full URL).
  void Redirect(const std::string& path, const std::string& location);

  std::vector<Request> Requests() const;
  std::vector<Request> RequestsFor(const std::string& path) const;

 private:
  struct Fault {
    int status = 0;
    int times = 0;
  };
  struct Response {
    int status = 0;
    std::string headers;  // extra header lines, each ending in \r\n
    std::string body;
    std::size_t send_limit = 0;  // bytes of `body` actually sent
  };

  void Loop();
  void Handle(int fd);
  Response Respond(const Request& request);

  int listen_fd_ = -1;
  int wake_read_ = -1;
  int wake_write_ = -1;
  int port_ = 0;
  mutable std::mutex mutex_;  // guards everything below
  std::map<std::string, std::string> files_;
  std::map<std::string, Fault> faults_;
  std::map<std::string, std::size_t> cuts_;
  std::map<std::string, std::string> redirects_;
  std::vector<Request> requests_;
  std::thread thread_;  // last: starts after everything above is initialised
};

// A TCP port on 127.0.0.1 with nothing listening (bound, read, released), for "connection refused" tests.
int UnusedPort();

}  // namespace facefleet::testing
