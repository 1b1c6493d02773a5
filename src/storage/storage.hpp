// Storage — where job inputs and results live: local files on one machine, S3-compatible object stores in a
// fleet. One interface; every backend passes tests/storage/storage_contract.hpp.
//
// Keys are chosen by facefleet, never by clients: "jobs/<job id>/<name>" made of [a-z0-9._-] segments. A key
// with anything else ("..", empty segments, '/' at either end, upper case, spaces) is refused with kInvalidRequest
// before it reaches a filesystem or a URL.
//
// Writes are atomic: an object appears whole at Commit() or not at all (readers never see a partial upload),
// and replacing an existing key is atomic too.
//
// Thread safety: Storage methods may be called concurrently; one Writer or Reader belongs to one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "facefleet/status.hpp"

namespace facefleet::storage {

// Key segments starting with this are reserved for backends' in-flight uploads (the filesystem backend's
// temporary files), so no object can ever be confused with one.
inline constexpr std::string_view kReservedSegmentPrefix = ".tmp-";

// ok when `key` is a valid storage key (see above; at most 512 bytes, no segment starting with ".tmp-");
// otherwise kInvalidRequest naming the key.
Status ValidateKey(std::string_view key);

// ok when `prefix` is a valid key followed by '/' ("jobs/abc/"); otherwise kInvalidRequest naming it.
Status ValidatePrefix(std::string_view prefix);

struct ObjectInfo {
  std::string key;
  std::uint64_t size = 0;
  std::int64_t modified_ms = 0;  // Unix epoch milliseconds
};

// Streams one object in. Append as often as needed, then Commit; destroying an uncommitted Writer (or Abort)
// leaves nothing behind.
class Writer {
 public:
  virtual ~Writer() = default;
  virtual Status Append(std::string_view bytes) = 0;
  virtual Result<ObjectInfo> Commit() = 0;
  virtual void Abort() = 0;
};

// Receives object bytes in order; return false to stop early (the read then ends with kCanceled).
using ByteSink = std::function<bool(std::string_view bytes)>;

class Storage {
 public:
  virtual ~Storage() = default;

  // A writer for `key` (created or replaced at Commit). `content_type` is stored where the backend can.
  virtual Result<std::unique_ptr<Writer>> OpenWriter(const std::string& key, const std::string& content_type) = 0;

  // Convenience: one-shot write of a small object.
  Result<ObjectInfo> Put(const std::string& key, std::string_view bytes, const std::string& content_type);

  // Streams bytes [offset, offset + length) of `key` into `sink` (length = UINT64_MAX: to the end).
  // kNotFound when absent; kInvalidRequest when offset is past the end.
  virtual Status Read(const std::string& key, std::uint64_t offset, std::uint64_t length, const ByteSink& sink) = 0;

  // Convenience: the whole object in memory (small objects only: tests, metadata).
  Result<std::string> Get(const std::string& key);

  virtual Result<ObjectInfo> Stat(const std::string& key) = 0;

  // Removes one object; ok when it was already absent (idempotent).
  virtual Status Delete(const std::string& key) = 0;

  // Removes every object whose key starts with `prefix` (which must end with '/'); ok when none.
  virtual Status DeletePrefix(const std::string& prefix) = 0;

  // Objects whose key starts with `prefix` (ValidatePrefix, or "" for every object), sorted by key bytes.
  virtual Result<std::vector<ObjectInfo>> List(const std::string& prefix) = 0;

  // A local file path holding the object's bytes, for code that needs a path (the engine's decoders).
  // The filesystem backend returns its own file; others download into `scratch_dir` and return that copy.
  virtual Result<std::string> LocalPath(const std::string& key, const std::string& scratch_dir) = 0;

  // A URL that lets anyone holding it GET the object until `expiry` (at most 7 days). Backends without such
  // URLs (the filesystem) return an empty string; the API then serves the object itself.
  virtual Result<std::string> PresignGet(const std::string& key, std::chrono::seconds expiry) = 0;

  // Cheap reachability check (readiness probe).
  virtual Status Ping() = 0;
};

// Filesystem backend: object "a/b" is file <root>/a/b; writes go to a temporary file ".tmp-*" in the same
// directory, fsync'd (when `sync`) and renamed into place. Creates `root` if needed; kOutputFailed when it cannot
// or when it is not a directory. `root` itself may be a symlink; no symlink below it is ever followed (such paths
// read as absent and refuse writes). A key cannot be both an object and a prefix of others ("a" and "a/b"):
// the second write gets kConflict. Delete leaves empty directories behind; DeletePrefix removes them.
struct FileStorageOptions {
  std::string root;
  bool sync = true;  // fsync data and directory on Commit (crash durability before a job is acknowledged)
  // Open removes temporary files not written to for this long: leftovers of a crashed process. Not zero by
  // default because other processes (API server, workers) may share the root and be uploading right now.
  std::chrono::seconds stale_temp_age = std::chrono::hours(1);
};
Result<std::unique_ptr<Storage>> OpenFileStorage(const FileStorageOptions& options);

}  // namespace facefleet::storage
