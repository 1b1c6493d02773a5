// A fresh directory under the system temp dir, removed with its contents on destruction (no engine needed).
#pragma once

#include <filesystem>
#include <string>

namespace facefleet::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::filesystem::path path() const { return path_; }
  std::string File(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace facefleet::testing
