// The filesystem backend beyond the contract: its root, temporary files, symlinks and the file layout.
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "storage/storage.hpp"
#include "support/temp_dir.hpp"

namespace facefleet::storage {
namespace {

namespace fs = std::filesystem;

void WriteFile(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

// Every ".tmp-*" file below `root`, as paths relative to it.
std::vector<std::string> TempFiles(const fs::path& root) {
  std::vector<std::string> out;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.path().filename().string().starts_with(".tmp-")) out.push_back(fs::relative(entry.path(), root));
  }
  return out;
}

std::unique_ptr<Storage> OpenOrDie(const FileStorageOptions& options) {
  Result<std::unique_ptr<Storage>> storage = OpenFileStorage(options);
  EXPECT_TRUE(storage.ok()) << storage.status().ToString();
  return storage.ok() ? std::move(storage).value() : nullptr;
}

class FileStorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_.path() / "root";
    outside_ = dir_.path() / "outside";
    WriteFile(outside_ / "secret", "outside bytes");
    storage_ = OpenOrDie({.root = root_.string()});
    ASSERT_NE(storage_, nullptr);
  }

  Storage& store() { return *storage_; }

  facefleet::testing::TempDir dir_;
  fs::path root_;
  fs::path outside_;
  std::unique_ptr<Storage> storage_;
};

TEST_F(FileStorageTest, ObjectsAreFilesUnderTheRoot) {
  ASSERT_TRUE(store().Put("jobs/j1/input.png", "png bytes", "image/png").ok());
  EXPECT_EQ(ReadFile(root_ / "jobs/j1/input.png"), "png bytes");
  const Result<std::string> path = store().LocalPath("jobs/j1/input.png", dir_.File("scratch"));
  ASSERT_TRUE(path.ok());
  EXPECT_EQ(*path, (root_ / "jobs/j1/input.png").string());
  EXPECT_EQ(store().PresignGet("jobs/j1/input.png", std::chrono::hours(1)).value(), "");
}

TEST_F(FileStorageTest, OpenCreatesNestedRoot) {
  const fs::path nested = dir_.path() / "a/b/c";
  ASSERT_NE(OpenOrDie({.root = nested.string() + "/"}), nullptr);
  EXPECT_TRUE(fs::is_directory(nested));
}

TEST_F(FileStorageTest, RootThatIsAFileIsAClearError) {
  WriteFile(dir_.path() / "plain", "x");
  const Result<std::unique_ptr<Storage>> storage = OpenFileStorage({.root = dir_.File("plain")});
  EXPECT_EQ(storage.status().code(), ErrorCode::kOutputFailed);
  EXPECT_NE(storage.status().message().find(dir_.File("plain")), std::string::npos) << storage.status().message();
  EXPECT_NE(storage.status().message().find("not a directory"), std::string::npos) << storage.status().message();
  // Below a file, the root cannot be created either.
  EXPECT_EQ(OpenFileStorage({.root = dir_.File("plain") + "/sub"}).status().code(), ErrorCode::kOutputFailed);
  EXPECT_EQ(OpenFileStorage({.root = ""}).status().code(), ErrorCode::kUsage);
}

TEST_F(FileStorageTest, StaleTempFilesAreRemovedOnOpen) {
  WriteFile(root_ / "jobs/j1/.tmp-0000000000000001", "crashed upload");
  WriteFile(root_ / ".tmp-0000000000000002", "crashed upload");
  WriteFile(root_ / "jobs/j1/.tmp-0000000000000003", "upload in progress elsewhere");
  const auto two_hours_ago = fs::file_time_type::clock::now() - std::chrono::hours(2);
  fs::last_write_time(root_ / "jobs/j1/.tmp-0000000000000001", two_hours_ago);
  fs::last_write_time(root_ / ".tmp-0000000000000002", two_hours_ago);

  ASSERT_NE(OpenOrDie({.root = root_.string()}), nullptr);
  EXPECT_EQ(TempFiles(root_), std::vector<std::string>{"jobs/j1/.tmp-0000000000000003"});
  EXPECT_TRUE(store().List("").value().empty());

  ASSERT_NE(OpenOrDie({.root = root_.string(), .stale_temp_age = std::chrono::seconds(0)}), nullptr);
  EXPECT_TRUE(TempFiles(root_).empty());
}

TEST_F(FileStorageTest, TempFilesAreNeverObjects) {
  Result<std::unique_ptr<Writer>> writer = store().OpenWriter("jobs/j1/out.mp4", "video/mp4");
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  ASSERT_TRUE((*writer)->Append(std::string(1024 * 1024, 'v')).ok());
  // The upload lives next to its object (same filesystem, so the rename is atomic) ...
  const std::vector<std::string> temps = TempFiles(root_);
  ASSERT_EQ(temps.size(), 1U);
  EXPECT_TRUE(temps[0].starts_with("jobs/j1/.tmp-")) << temps[0];
  // ... and is neither listed nor readable as an object.
  EXPECT_TRUE(store().List("").value().empty());
  EXPECT_TRUE(store().List("jobs/j1/").value().empty());
  EXPECT_EQ(store().Stat(temps[0]).status().code(), ErrorCode::kInvalidRequest);
  EXPECT_EQ(store().Get(temps[0]).status().code(), ErrorCode::kInvalidRequest);
  ASSERT_TRUE((*writer)->Commit().ok());
  EXPECT_TRUE(TempFiles(root_).empty());

  Result<std::unique_ptr<Writer>> aborted = store().OpenWriter("jobs/j1/aborted", "video/mp4");
  ASSERT_TRUE(aborted.ok());
  ASSERT_TRUE((*aborted)->Append("x").ok());
  (*aborted)->Abort();
  EXPECT_TRUE(TempFiles(root_).empty());
}

TEST_F(FileStorageTest, SymlinkedDirectoryInsideRootIsNotFollowed) {
  fs::create_directories(root_);
  fs::create_directory_symlink(outside_, root_ / "jobs");
  EXPECT_EQ(store().Get("jobs/secret").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(store().Stat("jobs/secret").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(store().LocalPath("jobs/secret", dir_.File("scratch")).status().code(), ErrorCode::kNotFound);
  EXPECT_TRUE(store().List("jobs/").value().empty());
  EXPECT_TRUE(store().List("").value().empty());

  const Result<ObjectInfo> put = store().Put("jobs/new", "x", "text/plain");
  EXPECT_EQ(put.status().code(), ErrorCode::kInvalidRequest) << put.status().ToString();
  EXPECT_EQ(store().Put("jobs/sub/new", "x", "text/plain").status().code(), ErrorCode::kInvalidRequest);
  EXPECT_FALSE(fs::exists(outside_ / "new"));
  EXPECT_FALSE(fs::exists(outside_ / "sub"));

  // Deleting through the link must not touch what it points at.
  EXPECT_TRUE(store().Delete("jobs/secret").ok());
  EXPECT_TRUE(store().DeletePrefix("jobs/").ok());
  EXPECT_EQ(ReadFile(outside_ / "secret"), "outside bytes");
}

TEST_F(FileStorageTest, SymlinkedFileInsideRootIsNotFollowed) {
  fs::create_directories(root_ / "jobs/j1");
  fs::create_symlink(outside_ / "secret", root_ / "jobs/j1/link");
  fs::create_directory_symlink(outside_, root_ / "jobs/j1/dirlink");
  EXPECT_EQ(store().Get("jobs/j1/link").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(store().Stat("jobs/j1/link").status().code(), ErrorCode::kNotFound);
  EXPECT_TRUE(store().List("jobs/").value().empty());

  // DeletePrefix removes the links themselves, never their targets.
  ASSERT_TRUE(store().DeletePrefix("jobs/j1/").ok());
  EXPECT_FALSE(fs::exists(fs::symlink_status(root_ / "jobs/j1")));
  EXPECT_EQ(ReadFile(outside_ / "secret"), "outside bytes");

  // Writing a key that is a symlink replaces the link; the target is untouched.
  fs::create_directories(root_ / "jobs/j2");
  fs::create_symlink(outside_ / "secret", root_ / "jobs/j2/link");
  ASSERT_TRUE(store().Put("jobs/j2/link", "inside bytes", "text/plain").ok());
  EXPECT_FALSE(fs::is_symlink(root_ / "jobs/j2/link"));
  EXPECT_EQ(store().Get("jobs/j2/link").value(), "inside bytes");
  EXPECT_EQ(ReadFile(outside_ / "secret"), "outside bytes");
}

TEST_F(FileStorageTest, RootMayBeASymlink) {
  fs::create_directories(dir_.path() / "real");
  fs::create_directory_symlink(dir_.path() / "real", dir_.path() / "link");
  std::unique_ptr<Storage> storage = OpenOrDie({.root = dir_.File("link")});
  ASSERT_NE(storage, nullptr);
  ASSERT_TRUE(storage->Put("jobs/j1/x", "through the link", "text/plain").ok());
  EXPECT_EQ(ReadFile(dir_.path() / "real/jobs/j1/x"), "through the link");
  EXPECT_EQ(storage->Get("jobs/j1/x").value(), "through the link");
  EXPECT_TRUE(storage->Ping().ok());
}

TEST_F(FileStorageTest, KeyCannotBeBothObjectAndPrefix) {
  ASSERT_TRUE(store().Put("a/b", "object", "text/plain").ok());
  const Result<ObjectInfo> below = store().Put("a/b/c", "x", "text/plain");
  EXPECT_EQ(below.status().code(), ErrorCode::kConflict) << below.status().ToString();

  ASSERT_TRUE(store().Put("x/y/z", "object", "text/plain").ok());
  const Result<ObjectInfo> above = store().Put("x/y", "x", "text/plain");
  EXPECT_EQ(above.status().code(), ErrorCode::kConflict) << above.status().ToString();
  EXPECT_EQ(store().Stat("x/y").status().code(), ErrorCode::kNotFound);
  EXPECT_TRUE(store().Delete("x/y").ok());
  EXPECT_EQ(store().Get("x/y/z").value(), "object");
  EXPECT_EQ(store().Get("a/b").value(), "object");
  EXPECT_TRUE(TempFiles(root_).empty());
}

TEST_F(FileStorageTest, SegmentLongerThanAFileNameIsRefused) {
  const std::string key = "jobs/" + std::string(300, 'n');
  ASSERT_TRUE(ValidateKey(key).ok());
  EXPECT_EQ(store().Put(key, "x", "text/plain").status().code(), ErrorCode::kInvalidRequest);
  EXPECT_EQ(store().Stat(key).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(store().Get(key).status().code(), ErrorCode::kNotFound);
  EXPECT_TRUE(store().Delete(key).ok());
}

TEST_F(FileStorageTest, DeletePrefixRemovesDirectories) {
  ASSERT_TRUE(store().Put("jobs/a/x/y", "1", "text/plain").ok());
  ASSERT_TRUE(store().Put("jobs/a/z", "2", "text/plain").ok());
  ASSERT_TRUE(store().DeletePrefix("jobs/a/").ok());
  EXPECT_FALSE(fs::exists(root_ / "jobs/a"));
  EXPECT_TRUE(fs::is_directory(root_ / "jobs"));
}

TEST_F(FileStorageTest, ForeignEntriesAreNotObjects) {
  fs::create_directories(root_ / "jobs/j1");
  ASSERT_EQ(::mkfifo((root_ / "jobs/j1/fifo").c_str(), 0600), 0);
  WriteFile(root_ / "jobs/j1/UPPER", "not a valid key");
  WriteFile(root_ / "jobs/j1/ok", "valid");
  // A FIFO must not block the reader.
  EXPECT_EQ(store().Get("jobs/j1/fifo").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(store().Stat("jobs/j1/fifo").status().code(), ErrorCode::kNotFound);
  const Result<std::vector<ObjectInfo>> listed = store().List("jobs/");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 1U);
  EXPECT_EQ(listed->front().key, "jobs/j1/ok");
}

TEST_F(FileStorageTest, RemovedRootIsUnavailable) {
  ASSERT_TRUE(store().Put("jobs/j1/x", "1", "text/plain").ok());
  fs::remove_all(root_);
  const Status ping = store().Ping();
  EXPECT_EQ(ping.code(), ErrorCode::kUnavailable);
  EXPECT_NE(ping.message().find(root_.string()), std::string::npos) << ping.message();
  // Writes must fail rather than land in a deleted directory.
  EXPECT_EQ(store().Put("jobs/j1/y", "1", "text/plain").status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(store().Get("jobs/j1/x").status().code(), ErrorCode::kUnavailable);
  fs::create_directories(root_);
  EXPECT_TRUE(store().Ping().ok());
}

TEST_F(FileStorageTest, UnwritableDirectoryIsOutputFailed) {
  if (::geteuid() == 0) GTEST_SKIP() << "running as root: permissions are not enforced";
  ASSERT_TRUE(store().Put("jobs/j1/x", "1", "text/plain").ok());
  fs::permissions(root_ / "jobs/j1", fs::perms::owner_read | fs::perms::owner_exec);
  const Result<ObjectInfo> put = store().Put("jobs/j1/y", "1", "text/plain");
  fs::permissions(root_ / "jobs/j1", fs::perms::owner_all);
  EXPECT_EQ(put.status().code(), ErrorCode::kOutputFailed);
  EXPECT_NE(put.status().message().find((root_ / "jobs/j1").string()), std::string::npos) << put.status().message();
}

}  // namespace
}  // namespace facefleet::storage
