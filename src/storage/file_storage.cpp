// Filesystem Storage backend: one file per object below a root directory.
//
// Every path below the root is resolved one component at a time with openat(O_NOFOLLOW), so a symlink placed
// inside the root (by an operator or another program) is never followed: reads see such paths as absent, writes
// are refused, and DeletePrefix never removes anything outside the root. The root itself is opened by path on
// every call (it may be a symlink, and a root that was removed reads as unavailable instead of swallowing writes
// into a deleted directory).
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <climits>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <sys/stat.h>

#include "storage/storage.hpp"

namespace facefleet::storage {
namespace {

constexpr std::size_t kWriteBufferSize = 256 * 1024;
constexpr std::size_t kReadChunkSize = 64 * 1024;
constexpr mode_t kDirMode = 0755;
constexpr mode_t kFileMode = 0644;
constexpr int kTempNameAttempts = 8;
// DeletePrefix retries when a concurrent writer refills a directory between emptying and removing it.
constexpr int kRemoveAttempts = 3;

// Owns a file descriptor; closes it on destruction (errors from close matter only for written files, where
// FileWriter::Commit closes explicitly).
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { Reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      Reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

std::string ErrnoText(int err) { return std::error_code(err, std::generic_category()).message(); }

// "dir/name" for messages. (Callers read errno into a local before building any string: an allocation may
// change errno.)
std::string JoinPath(const std::string& dir, const std::string& name) {
  std::string out;
  out.reserve(dir.size() + 1 + name.size());
  out.append(dir).append("/").append(name);
  return out;
}

// kOutputFailed naming the operation and path; a full disk says so in words an operator greps for.
Status OutputFailed(std::string_view op, const std::string& path, int err) {
  std::string message = std::string(op) + " " + path + ": " + ErrnoText(err);
  if (err == ENOSPC || err == EDQUOT) message += " (disk full)";
  return {ErrorCode::kOutputFailed, message};
}

// A read-side I/O failure (EIO, EACCES): the object may exist but cannot be served; a server problem.
Status ReadFailed(std::string_view op, const std::string& path, int err) {
  return {ErrorCode::kInternal, std::string(op) + " " + path + ": " + ErrnoText(err)};
}

Status NotFound(const std::string& key) { return {ErrorCode::kNotFound, "storage object '" + key + "' not found"}; }

// Errors meaning "no object of ours at this path": missing, a file or symlink in the way, or a name too long to
// have ever been written.
bool IsAbsentErrno(int err) { return err == ENOENT || err == ENOTDIR || err == ELOOP || err == ENAMETOOLONG; }

// Valid keys allow 512-byte segments; file names stop at NAME_MAX. Such a key is one this backend cannot store.
Status CheckSegmentLengths(const std::string& key) {
  std::size_t start = 0;
  while (start <= key.size()) {
    const std::size_t end = std::min(key.find('/', start), key.size());
    if (end - start > NAME_MAX) {
      return {ErrorCode::kInvalidRequest, "storage key '" + key.substr(0, 80) + "...' has a segment longer than " +
                                              std::to_string(NAME_MAX) + " bytes, the file name limit"};
    }
    start = end + 1;
  }
  return Status::Ok();
}

std::int64_t ModifiedMs(const struct stat& st) {
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000;
}

ObjectInfo MakeInfo(std::string key, const struct stat& st) {
  return {std::move(key), static_cast<std::uint64_t>(st.st_size), ModifiedMs(st)};
}

// "a/b/c" -> ("a/b", "c"); a key without '/' has parent "" (the root).
std::pair<std::string, std::string> SplitKey(const std::string& key) {
  const std::size_t slash = key.rfind('/');
  if (slash == std::string::npos) return {"", key};
  return {key.substr(0, slash), key.substr(slash + 1)};
}

std::string RandomTempName() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  constexpr std::string_view kHex = "0123456789abcdef";
  std::string name(kReservedSegmentPrefix);
  std::uint64_t bits = engine();
  for (int i = 0; i < 16; ++i, bits >>= 4) name += kHex[bits & 0xf];
  return name;
}

// The entry names of directory `dir_fd` (without "." and ".."). Reads through a fresh descriptor of the same
// directory so `dir_fd` keeps its own offset and stays usable for openat.
Result<std::vector<std::string>> ReadDirNames(int dir_fd, const std::string& path) {
  const int own_fd = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (own_fd < 0) {
    const int err = errno;
    return ReadFailed("open directory", path, err);
  }
  DIR* dir = ::fdopendir(own_fd);
  if (dir == nullptr) {
    const int err = errno;
    ::close(own_fd);
    return ReadFailed("read directory", path, err);
  }
  std::vector<std::string> names;
  errno = 0;
  // readdir is safe here: this DIR stream belongs to this call alone (POSIX.1-2024 only forbids sharing one).
  while (const dirent* entry = ::readdir(dir)) {  // NOLINT(concurrency-mt-unsafe)
    const std::string_view name = entry->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
    errno = 0;
  }
  const int err = errno;
  ::closedir(dir);
  if (err != 0) return ReadFailed("read directory", path, err);
  return names;
}

// Calls visit(dir_fd, name, rel_path, stat) for every entry below `dir_fd` that is not a directory, recursing
// into directories without following symlinks. `rel` is dir_fd's path relative to the root plus '/' ("" for the
// root). Entries that vanish meanwhile are skipped; trees deeper than any key are not entered.
using FileVisitor =
    std::function<Status(int dir_fd, const std::string& name, const std::string& rel_path, const struct stat& st)>;
Status WalkFiles(int dir_fd, const std::string& rel, const std::string& path, const FileVisitor& visit) {
  Result<std::vector<std::string>> names = ReadDirNames(dir_fd, path);
  if (!names.ok()) return names.status();
  for (const std::string& name : *names) {
    struct stat st {};
    if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      const int err = errno;
      if (err == ENOENT) continue;
      return ReadFailed("stat", JoinPath(path, name), err);
    }
    const std::string rel_path = rel + name;
    if (!S_ISDIR(st.st_mode)) {
      if (Status status = visit(dir_fd, name, rel_path, st); !status.ok()) return status;
      continue;
    }
    if (rel_path.size() > 512) continue;
    const UniqueFd child(::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (child.get() < 0) {
      const int err = errno;
      if (IsAbsentErrno(err)) continue;
      return ReadFailed("open directory", JoinPath(path, name), err);
    }
    if (Status status = WalkFiles(child.get(), rel_path + '/', JoinPath(path, name), visit); !status.ok()) {
      return status;
    }
  }
  return Status::Ok();
}

Status RemoveTree(int parent_fd, const std::string& name, const std::string& path);

// Removes everything inside directory `dir_fd` (not following symlinks: a link is removed, not its target).
Status RemoveContents(int dir_fd, const std::string& path) {
  Result<std::vector<std::string>> names = ReadDirNames(dir_fd, path);
  if (!names.ok()) return names.status();
  for (const std::string& name : *names) {
    struct stat st {};
    if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      const int err = errno;
      if (err == ENOENT) continue;
      return OutputFailed("stat", JoinPath(path, name), err);
    }
    if (S_ISDIR(st.st_mode)) {
      if (Status status = RemoveTree(dir_fd, name, JoinPath(path, name)); !status.ok()) return status;
    } else if (::unlinkat(dir_fd, name.c_str(), 0) != 0 && errno != ENOENT) {
      const int err = errno;
      return OutputFailed("remove", JoinPath(path, name), err);
    }
  }
  return Status::Ok();
}

// Removes directory `name` in `parent_fd` with its contents; ok when it is absent, a file or a symlink (there is
// then no directory of ours to remove).
Status RemoveTree(int parent_fd, const std::string& name, const std::string& path) {
  for (int attempt = 0; attempt < kRemoveAttempts; ++attempt) {
    const UniqueFd dir(::openat(parent_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (dir.get() < 0) {
      const int err = errno;
      if (IsAbsentErrno(err)) return Status::Ok();
      return OutputFailed("open directory", path, err);
    }
    if (Status status = RemoveContents(dir.get(), path); !status.ok()) return status;
    if (::unlinkat(parent_fd, name.c_str(), AT_REMOVEDIR) == 0) return Status::Ok();
    const int err = errno;
    if (err == ENOENT) return Status::Ok();
    if (err != ENOTEMPTY && err != EEXIST) return OutputFailed("remove directory", path, err);
  }
  return OutputFailed("remove directory (objects keep being written into it)", path, ENOTEMPTY);
}

// Streams one open object. An object never changes after Commit (replacing renames a new inode over it, and
// this descriptor keeps the old one), so a short read means the filesystem lost data.
Status StreamFile(int fd, const std::string& path, std::uint64_t offset, std::uint64_t remaining,
                  const ByteSink& sink) {
  if (remaining == 0) return Status::Ok();
  std::string buffer(static_cast<std::size_t>(std::min<std::uint64_t>(remaining, kReadChunkSize)), '\0');
  while (remaining > 0) {
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(remaining, buffer.size()));
    const ssize_t got = ::pread(fd, buffer.data(), want, static_cast<off_t>(offset));
    if (got < 0) {
      const int err = errno;
      if (err == EINTR) continue;
      return ReadFailed("read", path, err);
    }
    if (got == 0) return {ErrorCode::kInternal, "read " + path + ": file shorter than its size"};
    if (!sink(std::string_view(buffer.data(), static_cast<std::size_t>(got)))) {
      return {ErrorCode::kCanceled, "read of " + path + " stopped by its receiver"};
    }
    offset += static_cast<std::uint64_t>(got);
    remaining -= static_cast<std::uint64_t>(got);
  }
  return Status::Ok();
}

// Writes into a temporary file ".tmp-<random>" next to the object; Commit renames it into place.
class FileWriter final : public Writer {
 public:
  struct Target {
    UniqueFd dir;      // the object's directory
    UniqueFd file;     // the temporary file, open for writing
    std::string key;   // the object's key
    std::string name;  // the object's file name in `dir`
    std::string temp;  // the temporary file's name in `dir`
    std::string path;  // the object's full path, for messages
    std::string temp_path;
  };
  FileWriter(Target target, bool sync) : target_(std::move(target)), sync_(sync) {}
  ~FileWriter() override { Abort(); }
  FileWriter(const FileWriter&) = delete;
  FileWriter& operator=(const FileWriter&) = delete;

  Status Append(std::string_view bytes) override {
    if (state_ != State::kOpen) return Closed();
    if (buffer_.size() + bytes.size() <= kWriteBufferSize) {
      if (buffer_.capacity() < kWriteBufferSize) buffer_.reserve(kWriteBufferSize);
      buffer_.append(bytes);
      return Status::Ok();
    }
    if (Status status = Flush(); !status.ok()) return status;
    // Large appends skip the buffer: copying them first would only add a memcpy.
    if (bytes.size() >= kWriteBufferSize) return WriteAll(bytes);
    buffer_.append(bytes);
    return Status::Ok();
  }

  Result<ObjectInfo> Commit() override {
    if (state_ != State::kOpen) return Closed();
    if (Status status = Flush(); !status.ok()) return status;
    if (sync_ && ::fsync(target_.file.get()) != 0) return FailErrno("fsync");
    struct stat st {};
    if (::fstat(target_.file.get(), &st) != 0) return FailErrno("stat");
    // close() reports delayed write errors on some filesystems (NFS), so its result counts.
    if (::close(target_.file.release()) != 0) return FailErrno("close");
    if (::renameat(target_.dir.get(), target_.temp.c_str(), target_.dir.get(), target_.name.c_str()) != 0) {
      const int err = errno;
      if (err == EISDIR || err == ENOTEMPTY || err == EEXIST) return Fail(PrefixConflict());
      return Fail(OutputFailed("rename into", target_.path, err));
    }
    state_ = State::kCommitted;
    // The object is visible now; without the directory fsync its name might not survive a crash, and a caller
    // about to acknowledge a job must know that.
    const bool dir_synced = !sync_ || ::fsync(target_.dir.get()) == 0;
    const int err = errno;
    target_.dir.Reset();
    if (!dir_synced) return OutputFailed("fsync directory of", target_.path, err);
    return MakeInfo(target_.key, st);
  }

  void Abort() override {
    if (state_ != State::kOpen) return;
    state_ = State::kAborted;
    Discard();
  }

 private:
  enum class State : std::uint8_t { kOpen, kCommitted, kAborted, kFailed };

  Status PrefixConflict() const {
    return {ErrorCode::kConflict, "cannot write storage object '" + target_.key + "': other objects exist below it (" +
                                      target_.path + " is a directory)"};
  }

  Status Closed() const {
    if (state_ == State::kFailed) return error_;
    return {ErrorCode::kInternal, "storage writer for '" + target_.key + "' is already " +
                                      (state_ == State::kCommitted ? "committed" : "aborted")};
  }

  // Records a failure and removes the temporary file: the writer is unusable afterwards.
  Status Fail(Status status) {
    state_ = State::kFailed;
    error_ = status;
    Discard();
    return status;
  }

  // Fail() for the temporary file with the current errno.
  Status FailErrno(std::string_view op) {
    const int err = errno;
    return Fail(OutputFailed(op, target_.temp_path, err));
  }

  void Discard() {
    target_.file.Reset();
    if (target_.dir.get() >= 0) ::unlinkat(target_.dir.get(), target_.temp.c_str(), 0);
    target_.dir.Reset();
    buffer_ = std::string();
  }

  Status Flush() {
    if (buffer_.empty()) return Status::Ok();
    Status status = WriteAll(buffer_);
    buffer_.clear();
    return status;
  }

  Status WriteAll(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t wrote = ::write(target_.file.get(), bytes.data(), bytes.size());
      if (wrote < 0) {
        if (errno == EINTR) continue;
        return FailErrno("write");
      }
      bytes.remove_prefix(static_cast<std::size_t>(wrote));
    }
    return Status::Ok();
  }

  Target target_;
  bool sync_;
  State state_ = State::kOpen;
  Status error_;
  std::string buffer_;
};

class FileStorage final : public Storage {
 public:
  FileStorage(std::string root, bool sync) : root_(std::move(root)), sync_(sync) {}

  Result<std::unique_ptr<Writer>> OpenWriter(const std::string& key, const std::string& content_type) override;
  Status Read(const std::string& key, std::uint64_t offset, std::uint64_t length, const ByteSink& sink) override;
  Result<ObjectInfo> Stat(const std::string& key) override;
  Status Delete(const std::string& key) override;
  Status DeletePrefix(const std::string& prefix) override;
  Result<std::vector<ObjectInfo>> List(const std::string& prefix) override;
  Result<std::string> LocalPath(const std::string& key, const std::string& scratch_dir) override;
  Result<std::string> PresignGet(const std::string& key, std::chrono::seconds expiry) override;
  Status Ping() override;

  // Removes temporary files last modified at or before `cutoff_ms` (Unix ms): leftovers of crashed writers.
  Status RemoveStaleTemps(std::int64_t cutoff_ms) const;

 private:
  std::string PathOf(const std::string& rel) const { return rel.empty() ? root_ : JoinPath(root_, rel); }
  Result<UniqueFd> OpenRoot() const;
  // Opens directory `rel` ("" = the root, "a/b") without following symlinks below the root. Without `create`,
  // anything that is not a directory of ours reads as kNotFound; with it, missing directories are made.
  Result<UniqueFd> OpenDir(const std::string& rel, bool create) const;
  Status DirError(int parent_fd, const std::string& segment, const std::string& rel, int err, bool create) const;

  std::string root_;
  bool sync_;
};

Result<UniqueFd> FileStorage::OpenRoot() const {
  UniqueFd root(::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (root.get() < 0) {
    const int err = errno;
    return Status(ErrorCode::kUnavailable, "storage root " + root_ + ": " + ErrnoText(err));
  }
  return root;
}

Result<UniqueFd> FileStorage::OpenDir(const std::string& rel, bool create) const {
  Result<UniqueFd> dir = OpenRoot();
  if (!dir.ok() || rel.empty()) return dir;
  std::size_t start = 0;
  while (true) {
    const std::size_t slash = rel.find('/', start);
    const std::string segment = rel.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    const std::string so_far = rel.substr(0, slash);
    constexpr int kFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    int fd = ::openat(dir->get(), segment.c_str(), kFlags);
    if (fd < 0 && errno == ENOENT && create) {
      if (::mkdirat(dir->get(), segment.c_str(), kDirMode) != 0) {
        const int err = errno;  // EEXIST: a concurrent writer made it first
        if (err != EEXIST) return OutputFailed("create directory", PathOf(so_far), err);
      } else if (sync_ && ::fsync(dir->get()) != 0) {
        // A new directory's name lives in its parent: sync that too, or a crash could lose the whole subtree.
        const int err = errno;
        return OutputFailed("fsync directory", PathOf(so_far), err);
      }
      fd = ::openat(dir->get(), segment.c_str(), kFlags);
    }
    if (fd < 0) {
      const int err = errno;
      return DirError(dir->get(), segment, so_far, err, create);
    }
    *dir = UniqueFd(fd);
    if (slash == std::string::npos) return dir;
    start = slash + 1;
  }
}

Status FileStorage::DirError(int parent_fd, const std::string& segment, const std::string& rel, int err,
                             bool create) const {
  if (!create) {
    if (IsAbsentErrno(err)) return {ErrorCode::kNotFound, "no directory " + PathOf(rel)};
    return ReadFailed("open directory", PathOf(rel), err);
  }
  if (err != ENOTDIR && err != ELOOP) return OutputFailed("open directory", PathOf(rel), err);
  struct stat st {};
  if (::fstatat(parent_fd, segment.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
    return {ErrorCode::kInvalidRequest, PathOf(rel) + " is a symlink; storage never follows symlinks below its root"};
  }
  return {ErrorCode::kConflict, "storage object '" + rel + "' exists, so no object can be created below it"};
}

Result<std::unique_ptr<Writer>> FileStorage::OpenWriter(const std::string& key,
                                                        const std::string& /*content_type: files have none*/) {
  if (Status status = ValidateKey(key); !status.ok()) return status;
  if (Status status = CheckSegmentLengths(key); !status.ok()) return status;
  auto [parent, name] = SplitKey(key);
  Result<UniqueFd> dir = OpenDir(parent, true);
  if (!dir.ok()) return dir.status();
  // Refuse early what rename would refuse at Commit: the key is a directory holding other objects.
  struct stat st {};
  if (::fstatat(dir->get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
    return Status(ErrorCode::kConflict, "cannot write storage object '" + key + "': other objects exist below it");
  }
  for (int attempt = 0; attempt < kTempNameAttempts; ++attempt) {
    std::string temp = RandomTempName();
    constexpr int kFlags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
    UniqueFd file(::openat(dir->get(), temp.c_str(), kFlags, kFileMode));
    const int err = errno;
    std::string temp_path = parent.empty() ? PathOf(temp) : JoinPath(PathOf(parent), temp);
    if (file.get() < 0) {
      if (err == EEXIST) continue;
      return OutputFailed("create", temp_path, err);
    }
    FileWriter::Target target{std::move(*dir), std::move(file), key, name, std::move(temp), PathOf(key), temp_path};
    std::unique_ptr<Writer> writer = std::make_unique<FileWriter>(std::move(target), sync_);
    return writer;
  }
  return Status(ErrorCode::kInternal, "no unique temporary file name in " + PathOf(parent));
}

Status FileStorage::Read(const std::string& key, std::uint64_t offset, std::uint64_t length, const ByteSink& sink) {
  if (Status status = ValidateKey(key); !status.ok()) return status;
  const auto [parent, name] = SplitKey(key);
  Result<UniqueFd> dir = OpenDir(parent, false);
  if (!dir.ok()) return dir.status().code() == ErrorCode::kNotFound ? NotFound(key) : dir.status();
  // O_NONBLOCK: a FIFO someone left in the root must not hang the reader (regular files ignore the flag).
  const UniqueFd file(::openat(dir->get(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (file.get() < 0) {
    const int err = errno;
    return IsAbsentErrno(err) ? NotFound(key) : ReadFailed("open", PathOf(key), err);
  }
  struct stat st {};
  if (::fstat(file.get(), &st) != 0) {
    const int err = errno;
    return ReadFailed("stat", PathOf(key), err);
  }
  if (!S_ISREG(st.st_mode)) return NotFound(key);
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (offset > size) {
    return {ErrorCode::kInvalidRequest, "read offset " + std::to_string(offset) + " is past the end of '" + key +
                                            "' (" + std::to_string(size) + " bytes)"};
  }
  return StreamFile(file.get(), PathOf(key), offset, std::min(length, size - offset), sink);
}

Result<ObjectInfo> FileStorage::Stat(const std::string& key) {
  if (Status status = ValidateKey(key); !status.ok()) return status;
  const auto [parent, name] = SplitKey(key);
  Result<UniqueFd> dir = OpenDir(parent, false);
  if (!dir.ok()) return dir.status().code() == ErrorCode::kNotFound ? NotFound(key) : dir.status();
  struct stat st {};
  if (::fstatat(dir->get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    const int err = errno;
    return IsAbsentErrno(err) ? NotFound(key) : ReadFailed("stat", PathOf(key), err);
  }
  if (!S_ISREG(st.st_mode)) return NotFound(key);
  return MakeInfo(key, st);
}

Status FileStorage::Delete(const std::string& key) {
  if (Status status = ValidateKey(key); !status.ok()) return status;
  const auto [parent, name] = SplitKey(key);
  Result<UniqueFd> dir = OpenDir(parent, false);
  if (!dir.ok()) return dir.status().code() == ErrorCode::kNotFound ? Status::Ok() : dir.status();
  // EISDIR/EPERM on a directory: no object of that name exists (it is a prefix of others); nothing to delete.
  if (::unlinkat(dir->get(), name.c_str(), 0) != 0 && !IsAbsentErrno(errno) && errno != EISDIR) {
    struct stat st {};
    const int err = errno;
    if (::fstatat(dir->get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
      return Status::Ok();
    }
    return OutputFailed("remove", PathOf(key), err);
  }
  return Status::Ok();
}

Status FileStorage::DeletePrefix(const std::string& prefix) {
  if (Status status = ValidatePrefix(prefix); !status.ok()) return status;
  const std::string rel = prefix.substr(0, prefix.size() - 1);
  const auto [parent, name] = SplitKey(rel);
  Result<UniqueFd> dir = OpenDir(parent, false);
  if (!dir.ok()) return dir.status().code() == ErrorCode::kNotFound ? Status::Ok() : dir.status();
  return RemoveTree(dir->get(), name, PathOf(rel));
}

Result<std::vector<ObjectInfo>> FileStorage::List(const std::string& prefix) {
  if (!prefix.empty()) {
    if (Status status = ValidatePrefix(prefix); !status.ok()) return status;
  }
  const std::string rel = prefix.empty() ? "" : prefix.substr(0, prefix.size() - 1);
  Result<UniqueFd> dir = OpenDir(rel, false);
  if (!dir.ok()) {
    if (dir.status().code() == ErrorCode::kNotFound) return std::vector<ObjectInfo>{};
    return dir.status();
  }
  std::vector<ObjectInfo> objects;
  // Temporary files and names that are not valid keys (placed by hand) are not objects.
  const Status status = WalkFiles(dir->get(), prefix, PathOf(rel),
                                  [&objects](int, const std::string&, const std::string& key, const struct stat& st) {
                                    if (S_ISREG(st.st_mode) && ValidateKey(key).ok())
                                      objects.push_back(MakeInfo(key, st));
                                    return Status::Ok();
                                  });
  if (!status.ok()) return status;
  std::sort(objects.begin(), objects.end(), [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  return objects;
}

Result<std::string> FileStorage::LocalPath(const std::string& key, const std::string& /*scratch_dir: unused*/) {
  Result<ObjectInfo> info = Stat(key);
  if (!info.ok()) return info.status();
  return PathOf(key);
}

Result<std::string> FileStorage::PresignGet(const std::string& key, std::chrono::seconds /*expiry*/) {
  if (Status status = ValidateKey(key); !status.ok()) return status;
  return std::string();
}

Status FileStorage::Ping() {
  struct stat st {};
  if (::stat(root_.c_str(), &st) != 0) {
    const int err = errno;
    return {ErrorCode::kUnavailable, "storage root " + root_ + ": " + ErrnoText(err)};
  }
  if (!S_ISDIR(st.st_mode)) return {ErrorCode::kUnavailable, "storage root " + root_ + " is not a directory"};
  if (::faccessat(AT_FDCWD, root_.c_str(), W_OK, AT_EACCESS) != 0) {
    const int err = errno;
    return {ErrorCode::kUnavailable, "storage root " + root_ + " is not writable: " + ErrnoText(err)};
  }
  return Status::Ok();
}

Status FileStorage::RemoveStaleTemps(std::int64_t cutoff_ms) const {
  Result<UniqueFd> root = OpenRoot();
  if (!root.ok()) return root.status();
  return WalkFiles(
      root->get(), "", root_,
      [cutoff_ms, this](int dir_fd, const std::string& name, const std::string& rel_path, const struct stat& st) {
        if (!S_ISREG(st.st_mode) || !name.starts_with(kReservedSegmentPrefix)) return Status::Ok();
        if (ModifiedMs(st) > cutoff_ms) return Status::Ok();
        if (::unlinkat(dir_fd, name.c_str(), 0) != 0 && errno != ENOENT) {
          const int err = errno;
          return OutputFailed("remove stale temporary file", PathOf(rel_path), err);
        }
        return Status::Ok();
      });
}

}  // namespace

Result<std::unique_ptr<Storage>> OpenFileStorage(const FileStorageOptions& options) {
  namespace fs = std::filesystem;
  if (options.root.empty()) return Status(ErrorCode::kUsage, "storage root is empty");
  std::error_code ec;
  const fs::path absolute = fs::absolute(options.root, ec);
  if (ec) return Status(ErrorCode::kOutputFailed, "storage root " + options.root + ": " + ec.message());
  std::string root = absolute.lexically_normal().string();
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  if (fs::exists(root, ec) && !fs::is_directory(root, ec)) {
    return Status(ErrorCode::kOutputFailed, "storage root " + root + " exists and is not a directory");
  }
  fs::create_directories(root, ec);
  if (ec) return Status(ErrorCode::kOutputFailed, "cannot create storage root " + root + ": " + ec.message());
  auto storage = std::make_unique<FileStorage>(root, options.sync);
  const auto now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  const auto age_ms = std::chrono::duration_cast<std::chrono::milliseconds>(options.stale_temp_age).count();
  if (Status status = storage->RemoveStaleTemps(now_ms - age_ms); !status.ok()) return status;
  std::unique_ptr<Storage> result = std::move(storage);
  return result;
}

}  // namespace facefleet::storage
