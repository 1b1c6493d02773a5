#include "e2e/serve_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include <sys/wait.h>

extern char** environ;  // NOLINT(readability-redundant-declaration): POSIX declares it nowhere in a header

namespace facefleet::testing {
namespace {

using Clock = std::chrono::steady_clock;

int DecodeWaitStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// posix_spawn of `argv` with fds 1 and 2 replaced and stdin from /dev/null, in a clean signal state.
pid_t Spawn(const std::vector<std::string>& argv, int stdout_fd, int stderr_fd, std::string* error) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, stdout_fd, 1);
  posix_spawn_file_actions_adddup2(&actions, stderr_fd, 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (const int signal : {SIGPIPE, SIGTERM, SIGINT, SIGCHLD}) sigaddset(&defaults, signal);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  const std::vector<std::string> env = CleanEnvironment();
  std::vector<char*> envp;
  for (const auto& entry : env) envp.push_back(const_cast<char*>(entry.c_str()));
  envp.push_back(nullptr);

  pid_t pid = -1;
  const int rc = posix_spawn(&pid, args[0], &actions, &attr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    if (error != nullptr) *error = "cannot start " + argv[0] + ": " + std::strerror(rc);
    return -1;
  }
  return pid;
}

// Reads what is available on `fd` into `out`; false on EOF or error.
bool ReadSome(int fd, std::string& out) {
  std::array<char, 4096> buffer{};
  const ssize_t got = ::read(fd, buffer.data(), buffer.size());
  if (got > 0) {
    out.append(buffer.data(), static_cast<std::size_t>(got));
    return true;
  }
  return got < 0 && (errno == EINTR || errno == EAGAIN);
}

std::optional<int> WaitPid(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) return DecodeWaitStatus(status);
    if (done < 0 && errno != EINTR) return -1;
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace

std::string CliPath() {
  const char* override_path = std::getenv("FACEFLEET_TEST_CLI");  // NOLINT(concurrency-mt-unsafe)
  if (override_path != nullptr && *override_path != '\0') return override_path;
  return FACEFLEET_CLI_PATH;
}

std::vector<std::string> CleanEnvironment() {
  std::vector<std::string> env;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string text = *entry;
    if (text.rfind("FACEFLEET_", 0) != 0) env.push_back(text);
  }
  return env;
}

CliResult RunCli(const std::vector<std::string>& args, std::chrono::milliseconds timeout) {
  CliResult result;
  std::array<int, 2> out_pipe{-1, -1};
  std::array<int, 2> err_pipe{-1, -1};
  if (::pipe2(out_pipe.data(), O_CLOEXEC) != 0 || ::pipe2(err_pipe.data(), O_CLOEXEC) != 0) {
    result.err = std::string("pipe: ") + std::strerror(errno);
    return result;
  }
  std::vector<std::string> argv = {CliPath()};
  argv.insert(argv.end(), args.begin(), args.end());
  const pid_t pid = Spawn(argv, out_pipe[1], err_pipe[1], &result.err);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  const auto deadline = Clock::now() + timeout;
  std::array<pollfd, 2> fds{pollfd{out_pipe[0], POLLIN, 0}, pollfd{err_pipe[0], POLLIN, 0}};
  bool timed_out = false;
  while (pid > 0 && (fds[0].fd >= 0 || fds[1].fd >= 0)) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    if (::poll(fds.data(), fds.size(), static_cast<int>(std::min<long long>(left.count(), 100))) < 0 &&
        errno != EINTR) {
      break;
    }
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      if (!ReadSome(fds[i].fd, i == 0 ? result.out : result.err)) fds[i].fd = -1;
    }
  }
  ::close(out_pipe[0]);
  ::close(err_pipe[0]);
  if (pid <= 0) return result;
  if (timed_out) {
    ::kill(pid, SIGKILL);
    result.err += "\n[test: killed after the timeout]";
  }
  const std::optional<int> status = WaitPid(pid, timed_out ? std::chrono::milliseconds(10'000) : timeout);
  if (!status) {
    ::kill(pid, SIGKILL);
    result.exit_code = WaitPid(pid, std::chrono::milliseconds(10'000)).value_or(-1);
  } else {
    result.exit_code = *status;
  }
  return result;
}

ServeProcess::~ServeProcess() { Kill(); }

bool ServeProcess::Launch(const std::vector<std::string>& args, const std::string& stderr_path, std::string* error) {
  Kill();
  stdout_.clear();
  port_ = 0;
  host_.clear();
  stderr_path_ = stderr_path;
  const int err_fd = ::open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  std::array<int, 2> out_pipe{-1, -1};
  if (err_fd < 0 || ::pipe2(out_pipe.data(), O_CLOEXEC) != 0) {
    *error = stderr_path + ": " + std::strerror(errno);
    if (err_fd >= 0) ::close(err_fd);
    return false;
  }
  std::vector<std::string> argv = {CliPath(), "serve"};
  argv.insert(argv.end(), args.begin(), args.end());
  pid_ = Spawn(argv, out_pipe[1], err_fd, error);
  ::close(out_pipe[1]);
  ::close(err_fd);
  stdout_fd_ = out_pipe[0];
  if (pid_ <= 0) {
    Kill();
    return false;
  }
  return true;
}

bool ServeProcess::Start(const std::vector<std::string>& args, const std::string& stderr_path, std::string* error,
                         std::chrono::milliseconds timeout) {
  if (!Launch(args, stderr_path, error)) return false;
  static constexpr std::string_view kListening = "listening on http://";
  const auto deadline = Clock::now() + timeout;
  std::string why;
  for (;;) {
    const std::size_t at = stdout_.find(kListening);
    const std::size_t eol = at == std::string::npos ? std::string::npos : stdout_.find('\n', at);
    if (eol != std::string::npos) {
      const std::string address = stdout_.substr(at + kListening.size(), eol - at - kListening.size());
      const std::size_t colon = address.rfind(':');
      host_ = address.substr(0, colon);
      port_ = colon == std::string::npos ? 0 : std::atoi(address.c_str() + colon + 1);
      if (port_ > 0) return true;
      why = "unparsable listening line";
      break;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      why = "no 'listening on' line within " + std::to_string(timeout.count()) + " ms";
      break;
    }
    pollfd fd{stdout_fd_, POLLIN, 0};
    if (::poll(&fd, 1, static_cast<int>(std::min<long long>(left.count(), 100))) > 0 &&
        !ReadSome(stdout_fd_, stdout_)) {
      why = "stdout closed before the 'listening on' line";
      break;
    }
  }
  Kill();
  *error = "facefleet serve did not start: " + why + "\nstdout:\n" + stdout_ + "\nstderr:\n" + Stderr();
  return false;
}

std::string ServeProcess::GeneratedKey() const {
  std::istringstream lines(stdout_);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("ff_", 0) == 0) return line;
  }
  return "";
}

std::string ServeProcess::Stderr() const {
  std::ifstream in(stderr_path_, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void ServeProcess::Signal(int signal) const {
  if (pid_ > 0) ::kill(pid_, signal);
}

std::optional<int> ServeProcess::Wait(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return std::nullopt;
  const std::optional<int> status = WaitPid(pid_, timeout);
  if (status) {
    pid_ = -1;
    if (stdout_fd_ >= 0) ::close(stdout_fd_);
    stdout_fd_ = -1;
  }
  return status;
}

void ServeProcess::Kill() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    (void)WaitPid(pid_, std::chrono::seconds(30));
    pid_ = -1;
  }
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
  stdout_fd_ = -1;
}

}  // namespace facefleet::testing
