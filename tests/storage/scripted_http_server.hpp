// An HTTP/1.1 server on 127.0.0.1 that answers each request with the next scripted response and records every
// request whole (method, target, headers, body): for S3 client behaviour s3rver cannot produce (503 SlowDown,
// transfers cut mid-body, errors inside 200 answers) and for checking signatures against the bytes on the wire.
//
// One background thread serves one connection at a time and closes it after each response. Socket reads and
// writes time out after 5 s. Thread safety: public methods may be called from any thread while it runs.
#pragma once

#include <cstddef>
#include <deque>
#include <limits>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace facefleet::storage::testing {

class ScriptedHttpServer {
 public:
  struct Request {
    std::string method;
    std::string target;                                        // as sent: "/bucket/key?uploadId=..."
    std::vector<std::pair<std::string, std::string>> headers;  // in order, names as sent
    std::string body;
    std::string Header(const std::string& lower_name) const;  // "" when absent
  };
  struct Response {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    // Sends only this many body bytes (after a Content-Length of the whole body), then closes the connection.
    std::size_t cut_after = std::numeric_limits<std::size_t>::max();
  };

  ScriptedHttpServer();  // throws std::runtime_error when the socket cannot be set up
  ~ScriptedHttpServer();
  ScriptedHttpServer(const ScriptedHttpServer&) = delete;
  ScriptedHttpServer& operator=(const ScriptedHttpServer&) = delete;

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // Queues the answer to a future request; requests beyond the script get 500 with an empty body.
  void Push(Response response);
  std::vector<Request> Requests() const;

 private:
  void Loop();
  void Handle(int fd);

  int listen_fd_ = -1;
  int wake_read_ = -1;
  int wake_write_ = -1;
  int port_ = 0;
  mutable std::mutex mutex_;  // guards script_ and requests_
  std::deque<Response> script_;
  std::vector<Request> requests_;
  std::thread thread_;  // last: starts after everything above is initialised
};

}  // namespace facefleet::storage::testing
