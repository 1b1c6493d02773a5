#include "support/http_test_server.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <stdexcept>
#include <string_view>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace facefleet::testing {
namespace {

constexpr int kIoTimeoutS = 5;
constexpr std::size_t kMaxRequestBytes = 16384;

std::string_view StatusText(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 206:
      return "Partial Content";
    case 302:
      return "Found";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 416:
      return "Range Not Satisfiable";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// The value of header `name` (lower case) in a raw request head, "" when absent.
std::string HeaderValue(const std::string& head, std::string_view name) {
  std::size_t pos = head.find("\r\n");
  while (pos != std::string::npos && pos + 2 < head.size()) {
    const std::size_t end = head.find("\r\n", pos + 2);
    const std::string line = head.substr(pos + 2, end - pos - 2);
    const std::size_t colon = line.find(':');
    if (colon != std::string::npos && Lower(line.substr(0, colon)) == name) {
      const std::size_t start = line.find_first_not_of(' ', colon + 1);
      return start == std::string::npos ? "" : line.substr(start);
    }
    pos = end;
  }
  return "";
}

bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

void SetTimeouts(int fd) {
  timeval timeout{};
  timeout.tv_sec = kIoTimeoutS;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
}

sockaddr_in Loopback(int port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

int BoundPort(int fd) {
  sockaddr_in address{};
  socklen_t size = sizeof(address);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0) return -1;
  return ntohs(address.sin_port);
}

}  // namespace

HttpTestServer::HttpTestServer() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const sockaddr_in address = Loopback(0);
  std::array<int, 2> wake{-1, -1};
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0 ||
      ::listen(listen_fd_, 16) != 0 || (port_ = BoundPort(listen_fd_)) <= 0 || ::pipe2(wake.data(), O_CLOEXEC) != 0) {
    if (listen_fd_ >= 0) ::close(listen_fd_);
    throw std::runtime_error("HttpTestServer: cannot listen on 127.0.0.1");
  }
  wake_read_ = wake[0];
  wake_write_ = wake[1];
  thread_ = std::thread([this] { Loop(); });
}

HttpTestServer::~HttpTestServer() {
  const char byte = 'x';
  [[maybe_unused]] const ssize_t n = ::write(wake_write_, &byte, 1);
  thread_.join();
  ::close(listen_fd_);
  ::close(wake_read_);
  ::close(wake_write_);
}

std::string HttpTestServer::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

void HttpTestServer::Serve(const std::string& path, std::string body) {
  const std::lock_guard lock(mutex_);
  files_[path] = std::move(body);
}

void HttpTestServer::Fail(const std::string& path, int status, int times) {
  const std::lock_guard lock(mutex_);
  faults_[path] = {status, times};
}

void HttpTestServer::CutAfter(const std::string& path, std::size_t bytes) {
  const std::lock_guard lock(mutex_);
  cuts_[path] = bytes;
}

void HttpTestServer::Redirect(const std::string& path, const std::string& location) {
  const std::lock_guard lock(mutex_);
  redirects_[path] = location;
}

std::vector<HttpTestServer::Request> HttpTestServer::Requests() const {
  const std::lock_guard lock(mutex_);
  return requests_;
}

std::vector<HttpTestServer::Request> HttpTestServer::RequestsFor(const std::string& path) const {
  std::vector<Request> out;
  for (const Request& request : Requests()) {
    if (request.path == path) out.push_back(request);
  }
  return out;
}

void HttpTestServer::Loop() {
  for (;;) {
    std::array<pollfd, 2> fds{{{listen_fd_, POLLIN, 0}, {wake_read_, POLLIN, 0}}};
    if (::poll(fds.data(), fds.size(), -1) < 0) continue;  // EINTR
    if ((fds[1].revents & POLLIN) != 0) return;
    if ((fds[0].revents & POLLIN) == 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    SetTimeouts(fd);
    Handle(fd);
    ::close(fd);
  }
}

void HttpTestServer::Handle(int fd) {
  std::string head;
  std::array<char, 4096> buffer{};
  while (head.find("\r\n\r\n") == std::string::npos && head.size() < kMaxRequestBytes) {
    const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
    if (n <= 0) return;
    head.append(buffer.data(), static_cast<std::size_t>(n));
  }
  Request request;
  const std::size_t first_space = head.find(' ');
  const std::size_t second_space = head.find(' ', first_space + 1);
  if (first_space == std::string::npos || second_space == std::string::npos) return;
  const std::string method = head.substr(0, first_space);
  request.path = head.substr(first_space + 1, second_space - first_space - 1);
  request.range = HeaderValue(head, "range");
  request.user_agent = HeaderValue(head, "user-agent");
  Response response = method == "GET" ? Respond(request) : Response{405, "", "", 0};
  std::string out = "HTTP/1.1 " + std::to_string(response.status) + " " + std::string(StatusText(response.status)) +
                    "\r\n" + response.headers + "Content-Length: " + std::to_string(response.body.size()) +
                    "\r\nConnection: close\r\n\r\n";
  out.append(response.body, 0, response.send_limit);
  if (!SendAll(fd, out)) return;
  // Half-close, then wait for the client to close: closing with unread input could reset the connection
  // before the client has read everything.
  ::shutdown(fd, SHUT_WR);
  while (::recv(fd, buffer.data(), buffer.size(), 0) > 0) {
  }
}

HttpTestServer::Response HttpTestServer::Respond(const Request& request) {
  const std::lock_guard lock(mutex_);
  Response response{404, "", "not found\n", 0};
  if (auto fault = faults_.find(request.path); fault != faults_.end() && fault->second.times != 0) {
    if (fault->second.times > 0) --fault->second.times;
    response = {fault->second.status, "", "scripted failure\n", 0};
  } else if (auto redirect = redirects_.find(request.path); redirect != redirects_.end()) {
    response = {302, "Location: " + redirect->second + "\r\n", "", 0};
  } else if (auto file = files_.find(request.path); file != files_.end()) {
    const std::string& body = file->second;
    response = {200, "", body, 0};
    constexpr std::string_view kBytes = "bytes=";
    if (request.range.rfind(kBytes, 0) == 0) {
      const std::string spec = request.range.substr(kBytes.size());
      const std::size_t dash = spec.find('-');
      const std::size_t start = std::stoull(spec.substr(0, dash));
      std::size_t end = body.size() - 1;
      if (dash + 1 < spec.size()) end = std::min(end, static_cast<std::size_t>(std::stoull(spec.substr(dash + 1))));
      if (start >= body.size() || start > end) {
        response = {416, "Content-Range: bytes */" + std::to_string(body.size()) + "\r\n", "", 0};
      } else {
        response = {206,
                    "Content-Range: bytes " + std::to_string(start) + "-" + std::to_string(end) + "/" +
                        std::to_string(body.size()) + "\r\n",
                    body.substr(start, end - start + 1), 0};
      }
    }
  }
  response.send_limit = response.body.size();
  if (auto cut = cuts_.find(request.path); cut != cuts_.end() && response.status / 100 == 2) {
    response.send_limit = std::min(response.send_limit, cut->second);
    cuts_.erase(cut);
  }
  Request logged = request;
  logged.status = response.status;
  requests_.push_back(std::move(logged));
  return response;
}

int UnusedPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const sockaddr_in address = Loopback(0);
  int port = -1;
  if (fd >= 0 && ::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0) port = BoundPort(fd);
  if (fd >= 0) ::close(fd);
  if (port <= 0) throw std::runtime_error("UnusedPort: cannot bind 127.0.0.1");
  return port;
}

}  // namespace facefleet::testing
