// Runs the facefleet binary as a child process for end-to-end tests: one-shot commands (captured stdout and
// stderr, exit status) and long-running `facefleet serve` processes (started, read until they listen, signalled,
// reaped). No engine is linked: everything goes through the binary, exactly as an operator runs it.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace facefleet::testing {

// The binary under test: $FACEFLEET_TEST_CLI when set, else the build's FACEFLEET_CLI_PATH.
std::string CliPath();

struct CliResult {
  int exit_code = -1;  // the exit status; 128 + N when killed by signal N; -1 when it could not be started
  std::string out;
  std::string err;
};

// Runs `facefleet args...` to completion (killed with SIGKILL after `timeout`).
CliResult RunCli(const std::vector<std::string>& args, std::chrono::milliseconds timeout = std::chrono::seconds(60));

// One `facefleet serve` process. Its stderr goes to a file (appended), its stdout through a pipe that is read
// until the "listening on" line. The destructor kills (SIGKILL) and reaps a process still running.
// FACEFLEET_* environment variables of the test are not passed on, so only the given flags configure the server.
class ServeProcess {
 public:
  ServeProcess() = default;
  ~ServeProcess();
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  // Starts `facefleet serve args...` and waits up to `timeout` for "listening on http://HOST:PORT". On failure
  // returns false with a description (including the process's output) in *error; the process is then gone.
  bool Start(const std::vector<std::string>& args, const std::string& stderr_path, std::string* error,
             std::chrono::milliseconds timeout = std::chrono::seconds(120));
  // Only starts the process (for servers that are not expected to listen); false with *error when it cannot.
  bool Launch(const std::vector<std::string>& args, const std::string& stderr_path, std::string* error);

  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  int port() const { return port_; }
  const std::string& host() const { return host_; }
  // Everything read from stdout so far (the generated key and the listening line).
  const std::string& stdout_text() const { return stdout_; }
  // The API key the server printed because none existed ("" when it printed none).
  std::string GeneratedKey() const;
  // The whole stderr file as it is now.
  std::string Stderr() const;

  void Signal(int signal) const;
  // Waits for the process to exit: its exit status (128 + N for signal N), or nullopt after `timeout`.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  // SIGKILL and reap (no-op when not running).
  void Kill();

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  int port_ = 0;
  std::string host_;
  std::string stdout_;
  std::string stderr_path_;
};

// The child environment: the test's environment without FACEFLEET_* variables.
std::vector<std::string> CleanEnvironment();

}  // namespace facefleet::testing
