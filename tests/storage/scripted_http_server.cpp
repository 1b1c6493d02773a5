#include "storage/scripted_http_server.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <stdexcept>
#include <string_view>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace facefleet::storage::testing {
namespace {

constexpr int kIoTimeoutS = 5;

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// Reads until `buffer` holds at least `size` bytes; false on EOF, error or timeout.
bool ReadAtLeast(int fd, std::string& buffer, std::size_t size) {
  std::array<char, 65536> chunk{};
  while (buffer.size() < size) {
    const ssize_t n = ::recv(fd, chunk.data(), chunk.size(), 0);
    if (n <= 0) return false;
    buffer.append(chunk.data(), static_cast<std::size_t>(n));
  }
  return true;
}

// Parses the request head (request line and headers) of `raw`.
ScriptedHttpServer::Request ParseHead(const std::string& head) {
  ScriptedHttpServer::Request request;
  std::size_t line_end = head.find("\r\n");
  const std::string first = head.substr(0, line_end);
  const std::size_t space1 = first.find(' ');
  const std::size_t space2 = first.find(' ', space1 + 1);
  request.method = first.substr(0, space1);
  request.target = first.substr(space1 + 1, space2 - space1 - 1);
  while (line_end != std::string::npos && line_end + 2 < head.size()) {
    const std::size_t next = head.find("\r\n", line_end + 2);
    const std::string line = head.substr(line_end + 2, next - line_end - 2);
    const std::size_t colon = line.find(':');
    if (colon != std::string::npos) {
      const std::size_t value = line.find_first_not_of(' ', colon + 1);
      request.headers.emplace_back(line.substr(0, colon), value == std::string::npos ? "" : line.substr(value));
    }
    line_end = next;
  }
  return request;
}

}  // namespace

std::string ScriptedHttpServer::Request::Header(const std::string& lower_name) const {
  for (const auto& [name, value] : headers) {
    if (Lower(name) == lower_name) return value;
  }
  return "";
}

ScriptedHttpServer::ScriptedHttpServer() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  // NOLINTBEGIN(cppcoreguidelines-pro-type-reinterpret-cast): the BSD socket API takes sockaddr*
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::listen(listen_fd_, 16) != 0 || ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    throw std::runtime_error("ScriptedHttpServer: cannot listen on 127.0.0.1");
  }
  // NOLINTEND(cppcoreguidelines-pro-type-reinterpret-cast)
  port_ = ntohs(address.sin_port);
  std::array<int, 2> wake{};
  if (::pipe2(wake.data(), O_CLOEXEC) != 0) throw std::runtime_error("ScriptedHttpServer: pipe failed");
  wake_read_ = wake[0];
  wake_write_ = wake[1];
  thread_ = std::thread([this] { Loop(); });
}

ScriptedHttpServer::~ScriptedHttpServer() {
  (void)::write(wake_write_, "x", 1);
  thread_.join();
  ::close(listen_fd_);
  ::close(wake_read_);
  ::close(wake_write_);
}

void ScriptedHttpServer::Push(Response response) {
  const std::lock_guard lock(mutex_);
  script_.push_back(std::move(response));
}

std::vector<ScriptedHttpServer::Request> ScriptedHttpServer::Requests() const {
  const std::lock_guard lock(mutex_);
  return requests_;
}

void ScriptedHttpServer::Loop() {
  while (true) {
    std::array<pollfd, 2> fds{{{listen_fd_, POLLIN, 0}, {wake_read_, POLLIN, 0}}};
    if (::poll(fds.data(), fds.size(), -1) < 0) continue;
    if ((fds[1].revents & POLLIN) != 0) return;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    timeval timeout{.tv_sec = kIoTimeoutS, .tv_usec = 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
    Handle(fd);
    ::close(fd);
  }
}

void ScriptedHttpServer::Handle(int fd) {
  std::string buffer;
  std::size_t head_end = std::string::npos;
  while ((head_end = buffer.find("\r\n\r\n")) == std::string::npos) {
    if (!ReadAtLeast(fd, buffer, buffer.size() + 1)) return;
  }
  Request request = ParseHead(buffer.substr(0, head_end));
  const std::string length_text = request.Header("content-length");
  const std::size_t body_length = length_text.empty() ? 0 : std::stoul(length_text);
  if (!ReadAtLeast(fd, buffer, head_end + 4 + body_length)) return;
  request.body = buffer.substr(head_end + 4, body_length);
  Response response;
  response.status = 500;
  {
    const std::lock_guard lock(mutex_);
    if (!script_.empty()) {
      response = std::move(script_.front());
      script_.pop_front();
    }
    requests_.push_back(request);
  }
  std::string head = "HTTP/1.1 " + std::to_string(response.status) + " Scripted\r\n";
  for (const auto& [name, value] : response.headers) head.append(name).append(": ").append(value).append("\r\n");
  head += "Content-Length: " + std::to_string(response.body.size()) + "\r\nConnection: close\r\n\r\n";
  if (!SendAll(fd, head) || request.method == "HEAD") return;
  SendAll(fd, std::string_view(response.body).substr(0, std::min(response.cut_after, response.body.size())));
}

}  // namespace facefleet::storage::testing
