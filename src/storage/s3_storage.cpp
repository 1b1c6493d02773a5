// S3 Storage backend (see s3_storage.hpp): Storage calls mapped onto S3 API calls sent by s3::Client.
#include "storage/s3_storage.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <openssl/evp.h>

#include "core/log.hpp"
#include "storage/s3_client.hpp"

namespace facefleet::storage {
namespace {

using s3::Call;
using s3::Client;
using s3::Response;

constexpr std::size_t kMinPartSize = std::size_t{5} << 20;  // S3's minimum for every part but the last
constexpr std::size_t kMaxPartSize = std::size_t{5} << 30;
constexpr std::size_t kMaxParts = 10000;
constexpr std::size_t kMaxDeleteBatch = 1000;  // DeleteObjects takes at most 1000 keys
constexpr int kMaxListPage = 1000;
// LocalPath keeps this much of the key's last segment in the file name (extensions matter to decoders).
constexpr std::size_t kMaxLocalNameTail = 100;

bool IsSuccess(long status) { return status >= 200 && status < 300; }

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Status NotFound(const std::string& key) { return {ErrorCode::kNotFound, "storage object '" + key + "' not found"}; }

Status PastEnd(const std::string& key, std::uint64_t offset, std::uint64_t size) {
  return {ErrorCode::kInvalidRequest, "read offset " + std::to_string(offset) + " is past the end of '" + key + "' (" +
                                          std::to_string(size) + " bytes)"};
}

// Base64 of MD5(data): the Content-MD5 header S3 requires on DeleteObjects.
std::string ContentMd5(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest.data(), &length, EVP_md5(), nullptr);
  std::array<unsigned char, 4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1> text{};
  const int written = EVP_EncodeBlock(text.data(), digest.data(), static_cast<int>(length));
  return {reinterpret_cast<const char*>(text.data()), static_cast<std::size_t>(written)};
}

// Streams one object in: buffered up to part_size bytes, then a multipart upload (see s3_storage.hpp).
class S3Writer final : public Writer {
 public:
  S3Writer(std::shared_ptr<Client> client, std::string key, std::string content_type)
      : client_(std::move(client)),
        key_(std::move(key)),
        object_key_(client_->ObjectKey(key_)),
        content_type_(std::move(content_type)) {}
  ~S3Writer() override {
    try {
      Abort();
    } catch (...) {  // NOLINT(bugprone-empty-catch): out of memory while aborting; a lifecycle rule cleans up
    }
  }
  S3Writer(const S3Writer&) = delete;
  S3Writer& operator=(const S3Writer&) = delete;

  Status Append(std::string_view bytes) override;
  Result<ObjectInfo> Commit() override;
  void Abort() override;

 private:
  enum class State : std::uint8_t { kOpen, kCommitted, kAborted, kFailed };

  Status Closed() const;
  Status Fail(Status status);
  Status StartUpload();
  Status UploadPart(std::string_view bytes);
  Status PutWhole();
  Status CompleteUpload();
  void AbortUpload();
  // Extra signed headers carrying the content type, when there is one.
  sigv4::Params TypeHeader() const {
    if (content_type_.empty()) return {};
    return {{"content-type", content_type_}};
  }

  std::shared_ptr<Client> client_;
  std::string key_;         // storage key
  std::string object_key_;  // key in the bucket
  std::string content_type_;
  State state_ = State::kOpen;
  Status error_;
  std::string buffer_;  // bytes not uploaded yet (at most part_size)
  std::string upload_id_;
  std::vector<std::string> etags_;  // of the uploaded parts, in part order
  std::uint64_t size_ = 0;
};

Status S3Writer::Append(std::string_view bytes) {
  if (state_ != State::kOpen) return Closed();
  const std::size_t part_size = client_->options().part_size;
  size_ += bytes.size();
  while (!bytes.empty()) {
    // A full buffer goes up only once more bytes arrive: an object of exactly part_size bytes stays one PUT.
    if (buffer_.size() == part_size) {
      if (Status status = UploadPart(buffer_); !status.ok()) return Fail(status);
      buffer_.clear();
    }
    if (buffer_.empty() && bytes.size() > part_size) {
      // Large appends go up straight from the caller's memory instead of through the buffer.
      if (Status status = UploadPart(bytes.substr(0, part_size)); !status.ok()) return Fail(status);
      bytes.remove_prefix(part_size);
      continue;
    }
    const std::size_t take = std::min(part_size - buffer_.size(), bytes.size());
    buffer_.append(bytes.substr(0, take));
    bytes.remove_prefix(take);
  }
  return Status::Ok();
}

Result<ObjectInfo> S3Writer::Commit() {
  if (state_ != State::kOpen) return Closed();
  if (Status status = upload_id_.empty() ? PutWhole() : CompleteUpload(); !status.ok()) return Fail(status);
  state_ = State::kCommitted;
  buffer_ = std::string();
  return ObjectInfo{key_, size_, NowMs()};
}

void S3Writer::Abort() {
  if (state_ != State::kOpen) return;
  state_ = State::kAborted;
  buffer_ = std::string();
  AbortUpload();
}

Status S3Writer::Closed() const {
  if (state_ == State::kFailed) return error_;
  return {ErrorCode::kInternal,
          "storage writer for '" + key_ + "' is already " + (state_ == State::kCommitted ? "committed" : "aborted")};
}

// Records a failure and abandons the upload: the writer is unusable afterwards.
Status S3Writer::Fail(Status status) {
  state_ = State::kFailed;
  error_ = status;
  buffer_ = std::string();
  AbortUpload();
  return status;
}

Status S3Writer::StartUpload() {
  const Call call("CreateMultipartUpload", "POST", object_key_, {{"uploads", ""}}, TypeHeader());
  Result<Response> response = client_->Send(call);
  if (!response.ok()) return response.status();
  if (!IsSuccess(response->status)) return client_->Error(call, *response);
  upload_id_ = s3::XmlText(response->body, "UploadId");
  if (upload_id_.empty()) {
    return {ErrorCode::kInternal, "S3 CreateMultipartUpload " + client_->Describe(object_key_) + ": no UploadId"};
  }
  return Status::Ok();
}

Status S3Writer::UploadPart(std::string_view bytes) {
  if (upload_id_.empty()) {
    if (Status status = StartUpload(); !status.ok()) return status;
  }
  if (etags_.size() >= kMaxParts) {
    return {ErrorCode::kLimitExceeded, "storage object '" + key_ + "' needs more than " + std::to_string(kMaxParts) +
                                           " parts of " + std::to_string(client_->options().part_size >> 20) +
                                           " MiB; raise the S3 part size"};
  }
  // Parts are large: their hash is not computed (UNSIGNED-PAYLOAD); S3 checks each against Content-Length.
  Call call("UploadPart", "PUT", object_key_,
            {{"partNumber", std::to_string(etags_.size() + 1)}, {"uploadId", upload_id_}});
  call.body = bytes;
  call.sign_payload = false;
  Result<Response> response = client_->Send(call);
  if (!response.ok()) return response.status();
  if (!IsSuccess(response->status)) return client_->Error(call, *response);
  if (response->etag.empty()) {
    return {ErrorCode::kInternal, "S3 UploadPart " + client_->Describe(object_key_) + ": answer has no ETag"};
  }
  etags_.push_back(response->etag);
  return Status::Ok();
}

Status S3Writer::PutWhole() {
  Call call("PutObject", "PUT", object_key_, {}, TypeHeader());
  call.body = buffer_;
  Result<Response> response = client_->Send(call);
  if (!response.ok()) return response.status();
  if (!IsSuccess(response->status)) return client_->Error(call, *response);
  return Status::Ok();
}

Status S3Writer::CompleteUpload() {
  if (!buffer_.empty()) {
    if (Status status = UploadPart(buffer_); !status.ok()) return status;
  }
  std::string xml = "<CompleteMultipartUpload>";
  for (std::size_t i = 0; i < etags_.size(); ++i) {
    xml += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" + s3::XmlEscape(etags_[i]) +
           "</ETag></Part>";
  }
  xml += "</CompleteMultipartUpload>";
  Call call("CompleteMultipartUpload", "POST", object_key_, {{"uploadId", upload_id_}},
            {{"content-type", "application/xml"}});
  call.body = xml;
  call.error_in_ok_body = true;
  Result<Response> response = client_->Send(call);
  if (!response.ok()) return response.status();
  if (!IsSuccess(response->status)) return client_->Error(call, *response);
  upload_id_.clear();  // completed: nothing left to abort
  return Status::Ok();
}

void S3Writer::AbortUpload() {
  if (upload_id_.empty()) return;
  const Call call("AbortMultipartUpload", "DELETE", object_key_, {{"uploadId", upload_id_}});
  upload_id_.clear();
  Result<Response> response = client_->Send(call);
  // 404 NoSuchUpload: already gone. Anything else leaves stored parts behind, which cost money until a lifecycle
  // rule removes them: worth a warning (the message names bucket and key, never credentials).
  if (response.ok() && (IsSuccess(response->status) || response->status == 404)) return;
  const Status status = response.ok() ? client_->Error(call, *response) : response.status();
  core::LogWarn("storage: could not abort the multipart upload of " + client_->Describe(object_key_) +
                "; its parts stay until a lifecycle rule removes them: " + status.message());
}

class S3Storage final : public Storage {
 public:
  explicit S3Storage(S3Options options) : client_(std::make_shared<Client>(std::move(options))) {}

  Result<std::unique_ptr<Writer>> OpenWriter(const std::string& key, const std::string& content_type) override;
  Status Read(const std::string& key, std::uint64_t offset, std::uint64_t length, const ByteSink& sink) override;
  Result<ObjectInfo> Stat(const std::string& key) override;
  Status Delete(const std::string& key) override;
  Status DeletePrefix(const std::string& prefix) override;
  Result<std::vector<ObjectInfo>> List(const std::string& prefix) override;
  Result<std::string> LocalPath(const std::string& key, const std::string& scratch_dir) override;
  Result<std::string> PresignGet(const std::string& key, std::chrono::seconds expiry) override;
  Status Ping() override;

 private:
  // Every object whose bucket key starts with `object_prefix` (bucket keys, in the store's order).
  Result<std::vector<ObjectInfo>> ListObjects(const std::string& object_prefix);
  Status DeleteObjects(const std::vector<std::string>& object_keys);
  Status DeleteEach(const std::vector<std::string>& object_keys);
  // Read's answer to 416 (range not satisfiable): an empty read at the very end, or kInvalidRequest past it.
  Status RangeNotSatisfiable(const std::string& key, std::uint64_t offset);

  std::shared_ptr<Client> client_;
};

Result<std::unique_ptr<Writer>> S3Storage::OpenWriter(const std::string& key, const std::string& content_type) {
  if (Status status = ValidateKey(key); !status.ok()) return status;
  std::unique_ptr<Writer> writer = std::make_unique<S3Writer>(client_, key, content_type);
  return writer;
}

Status S3Storage::Read(const std::string& key, std::uint64_t offset, std::uint64_t length, const ByteSink& sink) {
  if (Status status = ValidateKey(key); !status.ok()) return status;
  if (length == 0) {
    Result<ObjectInfo> info = Stat(key);
    if (!info.ok()) return info.status();
    return offset > info->size ? PastEnd(key, offset, info->size) : Status::Ok();
  }
  const std::string object_key = client_->ObjectKey(key);
  // Last byte wanted (inclusive); UINT64_MAX: to the end.
  const bool to_end = length == UINT64_MAX || length > UINT64_MAX - offset;
  const std::uint64_t last = to_end ? UINT64_MAX : offset + length - 1;
  const s3::BodySink body_sink = [&sink](std::string_view bytes) { return sink(bytes); };
  std::uint64_t done = 0;
  std::string etag;  // pins the object version once a transfer was interrupted and resumes
  for (int resumes = 0;; ++resumes) {
    Call call("GetObject", "GET", object_key);
    const std::uint64_t start = offset + done;
    if (start > 0 || last != UINT64_MAX) {
      call.headers.emplace_back(
          "range", "bytes=" + std::to_string(start) + "-" + (last == UINT64_MAX ? "" : std::to_string(last)));
    }
    if (!etag.empty()) call.headers.emplace_back("if-match", etag);
    Result<Response> response = client_->Send(call, &body_sink);
    if (!response.ok()) return response.status();
    done += response->streamed;
    if (response->interrupted) {
      if (etag.empty()) etag = response->etag;
      if (etag.empty() || resumes + 1 >= client_->options().max_attempts) {
        return {ErrorCode::kUnavailable, "S3 GetObject " + client_->Describe(object_key) + " broke off after " +
                                             std::to_string(done) + " bytes: " + response->transport_error};
      }
      continue;
    }
    if (IsSuccess(response->status)) return Status::Ok();  // curl checked the length against Content-Length
    if (response->status == 404 && response->error_code != "NoSuchBucket" &&
        s3::XmlText(response->body, "Code") != "NoSuchBucket") {
      return NotFound(key);
    }
    if (response->status == 412 && !etag.empty()) {
      return {ErrorCode::kUnavailable, "storage object '" + key + "' was replaced while being read; read it again"};
    }
    if (response->status == 416 && done == 0) return RangeNotSatisfiable(key, offset);
    return client_->Error(call, *response);
  }
}

Status S3Storage::RangeNotSatisfiable(const std::string& key, std::uint64_t offset) {
  Result<ObjectInfo> info = Stat(key);
  if (!info.ok()) return info.status();
  if (offset == info->size) return Status::Ok();  // an empty range at the very end (S3 refuses that range)
  if (offset > info->size) return PastEnd(key, offset, info->size);
  return {ErrorCode::kUnavailable, "storage object '" + key + "' changed while being read; read it again"};
}

Result<ObjectInfo> S3Storage::Stat(const std::string& key) {
  if (Status status = ValidateKey(key); !status.ok()) return status;
  const Call call("HeadObject", "HEAD", client_->ObjectKey(key));
  Result<Response> response = client_->Send(call);
  if (!response.ok()) return response.status();
  // HEAD answers have no body; some stores name the error in a header.
  if (response->status == 404 && response->error_code != "NoSuchBucket") return NotFound(key);
  if (!IsSuccess(response->status)) return client_->Error(call, *response);
  const std::int64_t modified = s3::ParseHttpDateMs(response->last_modified);
  return ObjectInfo{key, static_cast<std::uint64_t>(std::max<std::int64_t>(response->content_length, 0)),
                    std::max<std::int64_t>(modified, 0)};
}

Status S3Storage::Delete(const std::string& key) {
  if (Status status = ValidateKey(key); !status.ok()) return status;
  const Call call("DeleteObject", "DELETE", client_->ObjectKey(key));
  Result<Response> response = client_->Send(call);
  if (!response.ok()) return response.status();
  if (IsSuccess(response->status)) return Status::Ok();
  // S3 answers 204 for absent keys; other stores say NoSuchKey. Either way: already deleted.
  if (response->status == 404 && s3::XmlText(response->body, "Code") != "NoSuchBucket" &&
      response->error_code != "NoSuchBucket") {
    return Status::Ok();
  }
  return client_->Error(call, *response);
}

Status S3Storage::DeletePrefix(const std::string& prefix) {
  if (Status status = ValidatePrefix(prefix); !status.ok()) return status;
  // Everything below the prefix goes, including objects whose names are not valid storage keys.
  Result<std::vector<ObjectInfo>> objects = ListObjects(client_->ObjectKey(prefix));
  if (!objects.ok()) return objects.status();
  std::vector<std::string> keys;
  keys.reserve(objects->size());
  for (ObjectInfo& object : *objects) keys.push_back(std::move(object.key));
  for (std::size_t start = 0; start < keys.size(); start += kMaxDeleteBatch) {
    const std::vector<std::string> batch(
        keys.begin() + static_cast<std::ptrdiff_t>(start),
        keys.begin() + static_cast<std::ptrdiff_t>(std::min(keys.size(), start + kMaxDeleteBatch)));
    if (Status status = DeleteObjects(batch); !status.ok()) return status;
  }
  return Status::Ok();
}

Status S3Storage::DeleteObjects(const std::vector<std::string>& object_keys) {
  std::string xml = "<Delete><Quiet>true</Quiet>";
  for (const std::string& key : object_keys) xml += "<Object><Key>" + s3::XmlEscape(key) + "</Key></Object>";
  xml += "</Delete>";
  Call call("DeleteObjects", "POST", "", {{"delete", ""}},
            {{"content-md5", ContentMd5(xml)}, {"content-type", "application/xml"}});
  call.body = xml;
  Result<Response> response = client_->Send(call);
  if (!response.ok()) return response.status();
  // Some S3-compatible stores (GCS's XML API among them) lack DeleteObjects.
  if (response->status == 501) return DeleteEach(object_keys);
  if (!IsSuccess(response->status)) return client_->Error(call, *response);
  const std::vector<std::string_view> errors = s3::XmlElements(response->body, "Error");
  if (errors.empty()) return Status::Ok();
  return {ErrorCode::kOutputFailed, "S3 DeleteObjects in " + client_->Describe("") + ": " +
                                        std::to_string(errors.size()) + " object(s) not deleted, first " +
                                        client_->Describe(s3::XmlText(errors.front(), "Key")) + ": " +
                                        s3::XmlText(errors.front(), "Code")};
}

Status S3Storage::DeleteEach(const std::vector<std::string>& object_keys) {
  for (const std::string& object_key : object_keys) {
    const Call call("DeleteObject", "DELETE", object_key);
    Result<Response> response = client_->Send(call);
    if (!response.ok()) return response.status();
    if (!IsSuccess(response->status) && response->status != 404) return client_->Error(call, *response);
  }
  return Status::Ok();
}

Result<std::vector<ObjectInfo>> S3Storage::ListObjects(const std::string& object_prefix) {
  std::vector<ObjectInfo> objects;
  std::string token;
  while (true) {
    // encoding-type=url: keys with characters XML 1.0 cannot carry still list.
    Call call("ListObjectsV2", "GET", "",
              {{"list-type", "2"},
               {"prefix", object_prefix},
               {"encoding-type", "url"},
               {"max-keys", std::to_string(client_->options().list_page_size)}});
    if (!token.empty()) call.query.emplace_back("continuation-token", token);
    Result<Response> response = client_->Send(call);
    if (!response.ok()) return response.status();
    if (!IsSuccess(response->status)) return client_->Error(call, *response);
    for (const std::string_view contents : s3::XmlElements(response->body, "Contents")) {
      ObjectInfo object;
      object.key = s3::UrlDecode(s3::XmlText(contents, "Key"));
      object.size = std::strtoull(s3::XmlText(contents, "Size").c_str(), nullptr, 10);
      object.modified_ms = std::max<std::int64_t>(s3::ParseIso8601Ms(s3::XmlText(contents, "LastModified")), 0);
      objects.push_back(std::move(object));
    }
    if (s3::XmlText(response->body, "IsTruncated") != "true") return objects;
    token = s3::XmlText(response->body, "NextContinuationToken");
    if (token.empty()) {
      return Status(ErrorCode::kInternal, "S3 ListObjectsV2 " + client_->Describe(object_prefix) +
                                              ": truncated answer without a continuation token");
    }
  }
}

Result<std::vector<ObjectInfo>> S3Storage::List(const std::string& prefix) {
  if (!prefix.empty()) {
    if (Status status = ValidatePrefix(prefix); !status.ok()) return status;
  }
  Result<std::vector<ObjectInfo>> objects = ListObjects(client_->ObjectKey(prefix));
  if (!objects.ok()) return objects.status();
  const std::size_t root_length = client_->ObjectKey("").size();
  std::vector<ObjectInfo> out;
  out.reserve(objects->size());
  for (ObjectInfo& object : *objects) {
    object.key.erase(0, root_length);
    // Objects put there by other tools under names no storage key can have are not ours.
    if (ValidateKey(object.key).ok()) out.push_back(std::move(object));
  }
  // S3 lists in UTF-8 byte order already; emulators do not all follow it.
  std::sort(out.begin(), out.end(), [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  return out;
}

Result<std::string> S3Storage::LocalPath(const std::string& key, const std::string& scratch_dir) {
  if (Status status = ValidateKey(key); !status.ok()) return status;
  std::error_code error;
  std::filesystem::create_directories(scratch_dir, error);
  if (error) return Status(ErrorCode::kOutputFailed, "create directory " + scratch_dir + ": " + error.message());
  // One file per object (named after a hash of bucket and key), ending like the key: decoders look at extensions.
  const std::string object_key = client_->ObjectKey(key);
  const std::string tail = key.substr(key.rfind('/') + 1);
  const std::string name = "s3-" + sigv4::Sha256Hex(client_->Describe(object_key)).substr(0, 16) + "-" +
                           tail.substr(tail.size() - std::min(tail.size(), kMaxLocalNameTail));
  const std::string path = (std::filesystem::path(scratch_dir) / name).string();
  // Downloaded under a unique temporary name and renamed: concurrent calls for one key never see a partial file.
  thread_local std::mt19937_64 engine{std::random_device{}()};
  const std::string temp = path + ".part-" + std::to_string(engine());
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    const int err = errno;
    return Status(ErrorCode::kOutputFailed, "create " + temp + ": " + std::generic_category().message(err));
  }
  int write_errno = 0;
  Status status = Read(key, 0, UINT64_MAX, [fd, &write_errno](std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t wrote = ::write(fd, bytes.data(), bytes.size());
      if (wrote < 0 && errno == EINTR) continue;
      if (wrote < 0) {
        write_errno = errno;
        return false;
      }
      bytes.remove_prefix(static_cast<std::size_t>(wrote));
    }
    return true;
  });
  if (::close(fd) != 0 && status.ok()) write_errno = errno;
  if (write_errno != 0)
    status = {ErrorCode::kOutputFailed, "write " + temp + ": " + std::generic_category().message(write_errno)};
  if (status.ok() && ::rename(temp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    status = {ErrorCode::kOutputFailed, "rename " + temp + ": " + std::generic_category().message(err)};
  }
  if (!status.ok()) {
    ::unlink(temp.c_str());
    return status;
  }
  return path;
}

Result<std::string> S3Storage::PresignGet(const std::string& key, std::chrono::seconds expiry) {
  if (Status status = ValidateKey(key); !status.ok()) return status;
  if (expiry.count() <= 0 || expiry.count() > sigv4::kMaxPresignSeconds) {
    return Status(ErrorCode::kUsage, "presigned URL expiry must be 1.." + std::to_string(sigv4::kMaxPresignSeconds) +
                                         " s (7 days, S3's limit), got " + std::to_string(expiry.count()) + " s");
  }
  return client_->PresignGet(client_->ObjectKey(key), expiry.count());
}

Status S3Storage::Ping() {
  const Call call("ListObjectsV2", "GET", "",
                  {{"list-type", "2"}, {"max-keys", "1"}, {"prefix", client_->ObjectKey("")}});
  Result<Response> response = client_->Send(call);
  if (!response.ok()) return response.status();
  return IsSuccess(response->status) ? Status::Ok() : client_->Error(call, *response);
}

// ---- Options, URL and credentials -----------------------------------------------------------------------------

constexpr std::string_view kUrlForm = "s3://bucket[/prefix][?endpoint=http://host:port&region=us-east-1&path_style=1]";
constexpr std::string_view kCredentialsHelp =
    "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (plus AWS_SESSION_TOKEN for temporary credentials), or "
    "FACEFLEET_S3_ACCESS_KEY_FILE and FACEFLEET_S3_SECRET_KEY_FILE";

Status Usage(std::string message) { return {ErrorCode::kUsage, std::move(message)}; }

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// S3's bucket naming rules (3-63 characters of [a-z0-9.-], a letter or digit at both ends, no "..").
Status CheckBucketName(const std::string& bucket) {
  const bool chars_ok =
      std::all_of(bucket.begin(), bucket.end(), [](char c) { return IsLowerAlnum(c) || c == '.' || c == '-'; });
  if (bucket.size() < 3 || bucket.size() > 63 || !chars_ok || !IsLowerAlnum(bucket.front()) ||
      !IsLowerAlnum(bucket.back()) || bucket.find("..") != std::string::npos) {
    return Usage("S3 bucket name '" + bucket.substr(0, 80) +
                 "' is invalid: 3-63 characters of [a-z0-9.-], starting and ending with a letter or digit");
  }
  return Status::Ok();
}

// "http(s)://host[:port]" with nothing after the authority but an optional '/'. Userinfo is refused: it would
// put credentials into a URL.
Status CheckEndpoint(const std::string& endpoint) {
  if (endpoint.empty()) return Status::Ok();
  const std::size_t colon = endpoint.find("://");
  const std::string scheme = endpoint.substr(0, colon);
  std::string authority = colon == std::string::npos ? "" : endpoint.substr(colon + 3);
  if (authority.ends_with('/')) authority.pop_back();
  const bool chars_ok = std::all_of(authority.begin(), authority.end(), [](char c) {
    return IsLowerAlnum(c) || (c >= 'A' && c <= 'Z') || c == '.' || c == '-' || c == ':' || c == '[' || c == ']';
  });
  if ((scheme != "http" && scheme != "https") || authority.empty() || !chars_ok) {
    return Usage("S3 endpoint must be http(s)://host[:port] without path or credentials, got '" +
                 (endpoint.find('@') == std::string::npos ? endpoint.substr(0, 120) : std::string("(hidden)")) + "'");
  }
  return Status::Ok();
}

Status CheckOptions(const S3Options& options) {
  if (Status status = CheckBucketName(options.bucket); !status.ok()) return status;
  if (!options.prefix.empty()) {
    if (Status status = ValidateKey(options.prefix); !status.ok()) return Usage("S3 prefix: " + status.message());
  }
  if (Status status = CheckEndpoint(options.endpoint); !status.ok()) return status;
  const bool region_ok =
      !options.region.empty() && options.region.size() <= 32 &&
      std::all_of(options.region.begin(), options.region.end(), [](char c) { return IsLowerAlnum(c) || c == '-'; });
  if (!region_ok) return Usage("S3 region '" + options.region.substr(0, 40) + "' is invalid (like eu-west-1)");
  if (options.part_size < kMinPartSize || options.part_size > kMaxPartSize) {
    return Usage("S3 part size must be 5 MiB..5 GiB, got " + std::to_string(options.part_size) + " bytes");
  }
  if (options.max_attempts < 1 || options.list_page_size < 1 || options.list_page_size > kMaxListPage ||
      options.initial_backoff.count() < 0 || options.max_backoff < options.initial_backoff ||
      options.connect_timeout.count() <= 0 || options.stall_timeout.count() <= 0) {
    return Usage("S3 options out of range: attempts >= 1, list page 1..1000, back-off and timeouts positive");
  }
  return Status::Ok();
}

// A secret file's contents without one trailing newline (editors and `echo` add it).
Result<std::string> ReadSecretFile(const char* variable, const char* path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  if (in) text << in.rdbuf();
  if (!in) return Usage(std::string(variable) + ": cannot read " + path);
  std::string value = text.str();
  if (value.ends_with('\n')) value.pop_back();
  if (value.ends_with('\r')) value.pop_back();
  if (value.empty()) return Usage(std::string(variable) + ": " + path + " is empty");
  return value;
}

std::string Env(const char* name) {
  // Read once at start-up, before threads that could call setenv exist.
  const char* value = std::getenv(name);  // NOLINT(concurrency-mt-unsafe)
  return value == nullptr ? std::string() : std::string(value);
}

}  // namespace

Result<S3Options> ParseS3Url(const std::string& url) {
  constexpr std::string_view kScheme = "s3://";
  if (!url.starts_with(kScheme)) return Usage("storage URL must look like " + std::string(kUrlForm));
  std::string_view rest(url);
  rest.remove_prefix(kScheme.size());
  const std::size_t question = rest.find('?');
  const std::string_view location = rest.substr(0, question);
  std::string_view query = question == std::string_view::npos ? std::string_view() : rest.substr(question + 1);
  // Never echo such a URL: the part before '@' is a secret.
  if (location.find('@') != std::string_view::npos) {
    return Usage("S3 URL must not carry credentials (user:secret@); " + std::string(kCredentialsHelp));
  }
  S3Options options;
  const std::size_t slash = location.find('/');
  options.bucket = std::string(location.substr(0, slash));
  if (slash != std::string_view::npos) {
    options.prefix = std::string(location.substr(slash + 1));
    if (options.prefix.ends_with('/')) options.prefix.pop_back();
  }
  bool has_path_style = false;
  while (!query.empty()) {
    const std::string_view param = query.substr(0, query.find('&'));
    query.remove_prefix(std::min(query.size(), param.size() + 1));
    if (param.empty()) continue;
    const std::size_t equals = param.find('=');
    const std::string name(param.substr(0, equals));
    const std::string value = equals == std::string_view::npos ? "" : s3::UrlDecode(param.substr(equals + 1));
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    if (lower.find("key") != std::string::npos || lower.find("secret") != std::string::npos ||
        lower.find("token") != std::string::npos || lower.find("password") != std::string::npos ||
        lower.find("credential") != std::string::npos) {
      return Usage("S3 URL must not carry credentials ('" + name.substr(0, 40) + "'); " +
                   std::string(kCredentialsHelp));
    }
    if (name == "endpoint") {
      options.endpoint = value;
    } else if (name == "region") {
      options.region = value;
    } else if (name == "path_style" && (value == "1" || value == "true" || value == "0" || value == "false")) {
      options.path_style = value == "1" || value == "true";
      has_path_style = true;
    } else if (name == "path_style") {
      return Usage("S3 URL parameter path_style must be 0, 1, true or false");
    } else {
      return Usage("unknown S3 URL parameter '" + name.substr(0, 40) + "' (known: endpoint, region, path_style)");
    }
  }
  if (!has_path_style) options.path_style = !options.endpoint.empty();
  if (Status status = CheckOptions(options); !status.ok()) return status;
  return options;
}

Status LoadS3Credentials(S3Options& options) {
  if (!options.access_key_id.empty() && !options.secret_access_key.empty()) return Status::Ok();
  std::string key = Env("AWS_ACCESS_KEY_ID");
  std::string secret = Env("AWS_SECRET_ACCESS_KEY");
  if (key.empty() || secret.empty()) {
    const std::string key_file = Env("FACEFLEET_S3_ACCESS_KEY_FILE");
    const std::string secret_file = Env("FACEFLEET_S3_SECRET_KEY_FILE");
    if (key_file.empty() || secret_file.empty()) return Usage("no S3 credentials: " + std::string(kCredentialsHelp));
    Result<std::string> key_text = ReadSecretFile("FACEFLEET_S3_ACCESS_KEY_FILE", key_file.c_str());
    if (!key_text.ok()) return key_text.status();
    Result<std::string> secret_text = ReadSecretFile("FACEFLEET_S3_SECRET_KEY_FILE", secret_file.c_str());
    if (!secret_text.ok()) return secret_text.status();
    key = std::move(key_text).value();
    secret = std::move(secret_text).value();
  }
  options.access_key_id = std::move(key);
  options.secret_access_key = std::move(secret);
  if (options.session_token.empty()) options.session_token = Env("AWS_SESSION_TOKEN");
  return Status::Ok();
}

Result<std::unique_ptr<Storage>> OpenS3Storage(const S3Options& options) {
  S3Options checked = options;
  if (Status status = CheckOptions(checked); !status.ok()) return status;
  if (Status status = LoadS3Credentials(checked); !status.ok()) return status;
  std::unique_ptr<Storage> storage = std::make_unique<S3Storage>(std::move(checked));
  return storage;
}

}  // namespace facefleet::storage
