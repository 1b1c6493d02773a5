#include "storage/s3rver.hpp"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include <sys/prctl.h>
#include <sys/wait.h>

namespace facefleet::storage::testing {
namespace {

// node starts s3rver in about a second, much longer on a loaded machine.
constexpr auto kStartTimeout = std::chrono::seconds(60);

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

std::unique_ptr<S3rver> S3rver::Start(const std::string& bucket, std::string& error) {
  // FACEFLEET_S3RVER_DIR overrides the installed copy (CI images with s3rver elsewhere).
  const char* override_dir = std::getenv("FACEFLEET_S3RVER_DIR");  // NOLINT(concurrency-mt-unsafe): read at start-up
  const std::string package_dir = override_dir != nullptr ? override_dir : FACEFLEET_S3RVER_DIR;
  if (!std::filesystem::exists(package_dir + "/bin/s3rver.js")) {
    error = "s3rver is not installed (" + package_dir + "): run scripts/install-deps";
    return nullptr;
  }
  std::unique_ptr<S3rver> server(new S3rver());
  const std::filesystem::path out = server->dir_.path() / "stdout";
  const std::filesystem::path err = server->dir_.path() / "stderr";
  std::filesystem::create_directories(server->data_dir());
  // s3rver encrypts ListObjectsV2 continuation tokens with DES, which OpenSSL 3 keeps in its legacy provider.
  std::vector<std::string> args = {"node",      "--openssl-legacy-provider", FACEFLEET_S3RVER_LAUNCHER,
                                   package_dir, server->data_dir(),          bucket};
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    // The emulator must not outlive a test binary that crashes.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (!std::freopen(out.c_str(), "w", stdout) || !std::freopen(err.c_str(), "w", stderr)) ::_exit(126);
    ::execvp("node", argv.data());
    ::_exit(127);
  }
  if (pid < 0) {
    error = "fork failed";
    return nullptr;
  }
  server->pid_ = pid;
  const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    const std::string text = ReadFile(out);
    if (text.starts_with("listening ") && text.ends_with('\n')) {
      server->port_ = std::stoi(text.substr(10));
      return server;
    }
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      server->pid_ = -1;
      error = "s3rver exited during start-up (status " + std::to_string(status) + "): " + ReadFile(err);
      return nullptr;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  error = "s3rver did not start within 60 s: " + ReadFile(err);
  return nullptr;
}

S3rver::~S3rver() { Kill(); }

void S3rver::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

void S3rver::Pause() const {
  if (pid_ > 0) ::kill(pid_, SIGSTOP);
}

void S3rver::Resume() const {
  if (pid_ > 0) ::kill(pid_, SIGCONT);
}

}  // namespace facefleet::storage::testing
