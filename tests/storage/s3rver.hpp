// s3rver, an S3 emulator on node (scripts/install-deps installs it), run as a child process for the S3 backend's
// tests through s3rver_launch.js (which explains what it patches).
#pragma once

#include <memory>
#include <string>

#include <sys/types.h>

#include "support/temp_dir.hpp"

namespace facefleet::storage::testing {

class S3rver {
 public:
  // Starts s3rver on 127.0.0.1 (port picked by the kernel) with a fresh data directory holding `bucket`.
  // The package comes from third_party/node/s3rver, or from the directory in FACEFLEET_S3RVER_DIR. Returns nullptr
  // and sets `error` when it cannot start; when s3rver is not installed, `error` says to run scripts/install-deps.
  static std::unique_ptr<S3rver> Start(const std::string& bucket, std::string& error);
  ~S3rver();
  S3rver(const S3rver&) = delete;
  S3rver& operator=(const S3rver&) = delete;

  int port() const { return port_; }
  // Path-style endpoint: "http://127.0.0.1:<port>".
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // Endpoint for virtual-hosted requests: <bucket>.s3.localhost resolves to 127.0.0.1 (curl resolves *.localhost
  // itself) and s3rver takes the bucket from the host name.
  std::string vhost_endpoint() const { return "http://s3.localhost:" + std::to_string(port_); }
  // Where s3rver keeps buckets (<dir>/<bucket>/...), for tests that inspect its state.
  std::string data_dir() const { return (dir_.path() / "data").string(); }

  void Kill();          // SIGKILL and reap: connections are refused from now on
  void Pause() const;   // SIGSTOP: connections are still accepted (kernel backlog) but never answered
  void Resume() const;  // SIGCONT

 private:
  S3rver() = default;
  facefleet::testing::TempDir dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace facefleet::storage::testing
