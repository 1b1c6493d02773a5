// The S3 backend against s3rver (an S3 emulator, see s3rver_launch.js): the Storage contract, then what only S3
// has — multipart uploads, presigned URLs, addressing styles, S3 errors, retries against a dead or hung server.
// s3rver must be installed (scripts/install-deps); without it every test here fails saying so. (s3:// URLs and
// credentials: s3_options_test.cpp; faults s3rver cannot produce: s3_faults_test.cpp.)
#include "storage/s3_storage.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <curl/curl.h>
#include <gtest/gtest.h>

#include "storage/s3rver.hpp"
#include "storage/storage_contract.hpp"

namespace facefleet::storage {
namespace {

using testing::S3rver;
constexpr const char* kBucket = "test-bucket";
constexpr std::uint64_t kMiB = 1024 * 1024;

// One s3rver for the whole binary: node takes a second or more to start it. Tests keep apart by key prefix.
S3rver* SharedServer() {
  static std::string error;
  static const std::unique_ptr<S3rver> server = S3rver::Start(kBucket, error);
  if (server == nullptr) ADD_FAILURE() << error;
  return server.get();
}

// Options for `server` with s3rver's only access key, a fresh prefix and back-off short enough for tests.
S3Options TestOptions(const S3rver& server) {
  static std::atomic<int> next_prefix{0};
  S3Options options;
  options.bucket = kBucket;
  options.prefix = "t" + std::to_string(next_prefix++);
  options.endpoint = server.endpoint();
  options.path_style = true;
  options.access_key_id = "S3RVER";
  options.secret_access_key = "S3RVER";
  options.initial_backoff = std::chrono::milliseconds(10);
  options.max_backoff = std::chrono::milliseconds(100);
  options.connect_timeout = std::chrono::seconds(5);
  options.stall_timeout = std::chrono::seconds(20);  // generous: s3rver on a busy CI machine
  return options;
}

std::unique_ptr<Storage> OpenOrFail(const S3Options& options) {
  Result<std::unique_ptr<Storage>> storage = OpenS3Storage(options);
  if (!storage.ok()) {
    ADD_FAILURE() << storage.status().ToString();
    return nullptr;
  }
  return std::move(storage).value();
}

std::unique_ptr<Storage> OpenS3ForContract(const std::string& /*scratch_dir: s3rver keeps the data*/) {
  S3rver* server = SharedServer();
  return server == nullptr ? nullptr : OpenOrFail(TestOptions(*server));
}

}  // namespace

namespace contract {
INSTANTIATE_TEST_SUITE_P(S3, StorageContractTest, ::testing::Values(StorageBackend{"s3", &OpenS3ForContract}),
                         BackendName());
}  // namespace contract

namespace {

std::string Pattern(std::size_t size, std::uint64_t seed) {
  std::string out(size, '\0');
  std::uint64_t state = seed | 1;
  for (char& c : out) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    c = static_cast<char>(state);
  }
  return out;
}

class S3StorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = SharedServer();
    ASSERT_NE(server_, nullptr);
    options_ = TestOptions(*server_);
  }

  std::unique_ptr<Storage> Open() { return OpenOrFail(options_); }

  // Multipart uploads s3rver holds for `key` (below this test's prefix): the emulator's own state, since it
  // has no ListMultipartUploads.
  int PendingUploads(const std::string& key) const {
    const std::filesystem::path uploads = std::filesystem::path(server_->data_dir()) / kBucket / "._S3rver_uploads";
    if (!std::filesystem::exists(uploads)) return 0;
    int count = 0;
    for (const auto& entry : std::filesystem::directory_iterator(uploads)) {
      std::ifstream in(entry.path() / "key");
      std::string upload_key;
      std::getline(in, upload_key);
      if (upload_key == options_.prefix + "/" + key) ++count;
    }
    return count;
  }

  S3rver* server_ = nullptr;
  S3Options options_;
};

TEST_F(S3StorageTest, MultipartUploadRoundTrips) {
  options_.part_size = 5 * kMiB;
  const std::unique_ptr<Storage> store = Open();
  ASSERT_NE(store, nullptr);
  Result<std::unique_ptr<Writer>> writer = store->OpenWriter("jobs/mp/video.mp4", "video/mp4");
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  std::string written;
  for (int i = 0; i < 12; ++i) {
    const std::string chunk = Pattern(kMiB, i + 1);
    written += chunk;
    ASSERT_TRUE((*writer)->Append(chunk).ok());
    // Past the first part the upload is multipart, and still invisible.
    if (i == 6) {
      EXPECT_EQ(PendingUploads("jobs/mp/video.mp4"), 1);
      EXPECT_EQ(store->Stat("jobs/mp/video.mp4").status().code(), ErrorCode::kNotFound);
    }
  }
  const Result<ObjectInfo> committed = (*writer)->Commit();
  ASSERT_TRUE(committed.ok()) << committed.status().ToString();
  EXPECT_EQ(committed->size, 12 * kMiB);
  EXPECT_EQ(PendingUploads("jobs/mp/video.mp4"), 0);
  const Result<ObjectInfo> stat = store->Stat("jobs/mp/video.mp4");
  ASSERT_TRUE(stat.ok()) << stat.status().ToString();
  EXPECT_EQ(stat->size, 12 * kMiB);
  const Result<std::string> got = store->Get("jobs/mp/video.mp4");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(*got == written);
  // A range across the part boundaries (parts of 5 MiB).
  std::string middle;
  ASSERT_TRUE(store
                  ->Read("jobs/mp/video.mp4", 5 * kMiB - 10, 20,
                         [&middle](std::string_view bytes) {
                           middle.append(bytes);
                           return true;
                         })
                  .ok());
  EXPECT_EQ(middle, written.substr(5 * kMiB - 10, 20));
}

TEST_F(S3StorageTest, ObjectOfOnePartSizeIsOnePut) {
  options_.part_size = 5 * kMiB;
  const std::unique_ptr<Storage> store = Open();
  ASSERT_NE(store, nullptr);
  Result<std::unique_ptr<Writer>> writer = store->OpenWriter("jobs/one/put", "application/octet-stream");
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Append(Pattern(5 * kMiB, 3)).ok());
  EXPECT_EQ(PendingUploads("jobs/one/put"), 0);
  ASSERT_TRUE((*writer)->Commit().ok());
  EXPECT_EQ(store->Stat("jobs/one/put").value().size, 5 * kMiB);
}

TEST_F(S3StorageTest, AbortLeavesNoObjectAndNoUpload) {
  options_.part_size = 5 * kMiB;
  const std::unique_ptr<Storage> store = Open();
  ASSERT_NE(store, nullptr);
  for (const bool explicit_abort : {true, false}) {
    SCOPED_TRACE(explicit_abort ? "Abort()" : "destroyed");
    const std::string key = explicit_abort ? "jobs/ab/aborted" : "jobs/ab/dropped";
    {
      Result<std::unique_ptr<Writer>> writer = store->OpenWriter(key, "video/mp4");
      ASSERT_TRUE(writer.ok());
      ASSERT_TRUE((*writer)->Append(Pattern(7 * kMiB, 5)).ok());
      ASSERT_EQ(PendingUploads(key), 1);
      if (explicit_abort) {
        (*writer)->Abort();
        EXPECT_EQ(PendingUploads(key), 0);
        EXPECT_FALSE((*writer)->Commit().ok());
      }
    }
    EXPECT_EQ(PendingUploads(key), 0);
    EXPECT_EQ(store->Stat(key).status().code(), ErrorCode::kNotFound);
  }
  EXPECT_TRUE(store->List("jobs/").value().empty());
}

// GETs `url` with no credentials at all; returns the body, the HTTP status and the Content-Type.
struct PlainGet {
  long status = 0;
  std::string body;
  std::string content_type;
};
PlainGet FetchWithPlainCurl(const std::string& url) {
  PlainGet result;
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(
      curl, CURLOPT_WRITEFUNCTION, +[](char* data, std::size_t size, std::size_t count, void* user) {
        static_cast<std::string*>(user)->append(data, size * count);
        return size * count;
      });
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &result.body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
  if (curl_easy_perform(curl) == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &result.status);
    char* type = nullptr;
    curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &type);
    if (type != nullptr) result.content_type = type;
  }
  curl_easy_cleanup(curl);
  return result;
}

TEST_F(S3StorageTest, PresignedUrlServesObjectWithoutCredentials) {
  const std::unique_ptr<Storage> store = Open();
  ASSERT_NE(store, nullptr);
  const std::string bytes = Pattern(300 * 1024, 9);
  ASSERT_TRUE(store->Put("jobs/ps/result.png", bytes, "image/png").ok());
  const Result<std::string> url = store->PresignGet("jobs/ps/result.png", std::chrono::hours(1));
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  EXPECT_TRUE(url->starts_with(server_->endpoint() + "/test-bucket/" + options_.prefix + "/jobs/ps/result.png?"))
      << *url;
  EXPECT_NE(url->find("X-Amz-Expires=3600"), std::string::npos) << *url;
  EXPECT_NE(url->find("X-Amz-Signature="), std::string::npos) << *url;
  const PlainGet fetched = FetchWithPlainCurl(*url);
  EXPECT_EQ(fetched.status, 200);
  EXPECT_TRUE(fetched.body == bytes) << fetched.body.size() << " bytes";
  EXPECT_EQ(fetched.content_type, "image/png");

  EXPECT_TRUE(store->PresignGet("jobs/ps/result.png", std::chrono::seconds(604800)).ok());
  for (const auto expiry : {std::chrono::seconds(604801), std::chrono::seconds(0), std::chrono::seconds(-5)}) {
    const Result<std::string> refused = store->PresignGet("jobs/ps/result.png", expiry);
    EXPECT_EQ(refused.status().code(), ErrorCode::kUsage) << expiry.count();
  }
}

TEST_F(S3StorageTest, VirtualHostedAddressing) {
  options_.endpoint = server_->vhost_endpoint();
  options_.path_style = false;
  const std::unique_ptr<Storage> store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Ping().ok()) << store->Ping().ToString();
  const Result<ObjectInfo> put = store->Put("jobs/vh/a.txt", "virtual host", "text/plain");
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(store->Get("jobs/vh/a.txt").value(), "virtual host");
  EXPECT_EQ(store->List("jobs/").value().size(), 1U);
  const Result<std::string> url = store->PresignGet("jobs/vh/a.txt", std::chrono::minutes(5));
  ASSERT_TRUE(url.ok());
  EXPECT_TRUE(url->starts_with("http://test-bucket.s3.localhost:")) << *url;
  EXPECT_EQ(FetchWithPlainCurl(*url).body, "virtual host");
  EXPECT_TRUE(store->DeletePrefix("jobs/").ok());
  EXPECT_EQ(store->Stat("jobs/vh/a.txt").status().code(), ErrorCode::kNotFound);
}

TEST_F(S3StorageTest, ListAndDeletePrefixFollowContinuationTokens) {
  options_.list_page_size = 3;
  const std::unique_ptr<Storage> store = Open();
  ASSERT_NE(store, nullptr);
  std::vector<std::string> keys;
  keys.reserve(10);
  for (int i = 0; i < 10; ++i) keys.push_back("jobs/page/o" + std::to_string(i));
  for (const std::string& key : keys) ASSERT_TRUE(store->Put(key, key, "text/plain").ok());
  const Result<std::vector<ObjectInfo>> listed = store->List("jobs/page/");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) EXPECT_EQ((*listed)[i].key, keys[i]);
  ASSERT_TRUE(store->DeletePrefix("jobs/page/").ok());
  EXPECT_TRUE(store->List("").value().empty());
}

TEST_F(S3StorageTest, PrefixesKeepDeploymentsApart) {
  const std::unique_ptr<Storage> first = Open();
  S3Options other = TestOptions(*server_);
  other.prefix = options_.prefix + "-other/nested";
  const std::unique_ptr<Storage> second = OpenOrFail(other);
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  ASSERT_TRUE(first->Put("jobs/x/a", "first", "text/plain").ok());
  ASSERT_TRUE(second->Put("jobs/x/a", "second", "text/plain").ok());
  EXPECT_EQ(first->Get("jobs/x/a").value(), "first");
  EXPECT_EQ(second->Get("jobs/x/a").value(), "second");
  EXPECT_EQ(first->List("").value().size(), 1U);
  ASSERT_TRUE(first->DeletePrefix("jobs/").ok());
  EXPECT_EQ(second->Get("jobs/x/a").value(), "second");
  // Stored as "<prefix>/<key>" in the bucket.
  EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(server_->data_dir()) / kBucket / other.prefix / "jobs" /
                                      "x" / "a._S3rver_object"));
}

TEST_F(S3StorageTest, LocalPathDownloadsOneFilePerKey) {
  const std::unique_ptr<Storage> store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Put("jobs/a/input.jpg", "first", "image/jpeg").ok());
  ASSERT_TRUE(store->Put("jobs/b/input.jpg", "second", "image/jpeg").ok());
  const facefleet::testing::TempDir scratch;
  const std::string dir = (scratch.path() / "not-yet").string();
  const Result<std::string> a = store->LocalPath("jobs/a/input.jpg", dir);
  const Result<std::string> b = store->LocalPath("jobs/b/input.jpg", dir);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_NE(*a, *b);
  EXPECT_TRUE(a->ends_with("input.jpg")) << *a;  // decoders go by extension
  EXPECT_TRUE(a->starts_with(dir + "/")) << *a;
  std::ifstream in(*a);
  std::string text;
  std::getline(in, text);
  EXPECT_EQ(text, "first");
  // Again, after a replacement: the copy is fresh, and no temporary file stays behind.
  ASSERT_TRUE(store->Put("jobs/a/input.jpg", "replaced", "image/jpeg").ok());
  ASSERT_EQ(store->LocalPath("jobs/a/input.jpg", dir).value(), *a);
  std::ifstream again(*a);
  std::getline(again, text);
  EXPECT_EQ(text, "replaced");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()), 2);
}

TEST_F(S3StorageTest, MissingBucketIsOutputFailedNamingIt) {
  options_.bucket = "no-such-bucket";
  const std::unique_ptr<Storage> store = Open();
  ASSERT_NE(store, nullptr);
  const std::vector<Status> results = {store->Put("jobs/x/a", "x", "text/plain").status(), store->Ping(),
                                       store->List("").status(), store->Get("jobs/x/a").status(),
                                       store->DeletePrefix("jobs/")};
  for (const Status& status : results) {
    EXPECT_EQ(status.code(), ErrorCode::kOutputFailed) << status.ToString();
    EXPECT_NE(status.message().find("bucket 'no-such-bucket' does not exist"), std::string::npos) << status.ToString();
  }
  // HEAD answers carry no error code: a missing bucket reads as a missing object there (as on AWS).
  EXPECT_EQ(store->Stat("jobs/x/a").status().code(), ErrorCode::kNotFound);
}

TEST_F(S3StorageTest, UnknownAccessKeyIsAccessDeniedWithoutSecrets) {
  options_.access_key_id = "AKIAUNKNOWNKEY";
  options_.secret_access_key = "very-secret-value";
  const std::unique_ptr<Storage> store = Open();
  ASSERT_NE(store, nullptr);
  for (const Status& status : {store->Ping(), store->Put("jobs/x/a", "x", "text/plain").status()}) {
    EXPECT_EQ(status.code(), ErrorCode::kOutputFailed) << status.ToString();
    EXPECT_NE(status.message().find("S3 access denied (check credentials)"), std::string::npos) << status.ToString();
    EXPECT_NE(status.message().find("InvalidAccessKeyId"), std::string::npos) << status.ToString();
    EXPECT_EQ(status.message().find("very-secret-value"), std::string::npos);
  }
}

// A server of this test's own, so killing it leaves the shared one alone.
class S3OutageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    server_ = S3rver::Start(kBucket, error);
    ASSERT_NE(server_, nullptr) << error;
    options_ = TestOptions(*server_);
    options_.connect_timeout = std::chrono::seconds(1);
    options_.stall_timeout = std::chrono::seconds(1);
    store_ = OpenOrFail(options_);
    ASSERT_NE(store_, nullptr);
    ASSERT_TRUE(store_->Put("jobs/o/a", "before the outage", "text/plain").ok());
  }

  std::unique_ptr<S3rver> server_;
  S3Options options_;
  std::unique_ptr<Storage> store_;
};

TEST_F(S3OutageTest, KilledServerIsUnavailableAfterRetries) {
  server_->Kill();
  const auto start = std::chrono::steady_clock::now();
  Result<std::unique_ptr<Writer>> writer = store_->OpenWriter("jobs/o/b", "text/plain");
  ASSERT_TRUE(writer.ok());  // no request yet
  ASSERT_TRUE((*writer)->Append("x").ok());
  const std::vector<Status> results = {store_->Get("jobs/o/a").status(),
                                       store_->Stat("jobs/o/a").status(),
                                       store_->List("").status(),
                                       store_->Delete("jobs/o/a"),
                                       store_->Ping(),
                                       (*writer)->Commit().status()};
  for (const Status& status : results) {
    EXPECT_EQ(status.code(), ErrorCode::kUnavailable) << status.ToString();
    EXPECT_NE(status.message().find("after 3 attempt(s)"), std::string::npos) << status.ToString();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
}

TEST_F(S3OutageTest, HungServerIsUnavailableNotAHang) {
  options_.max_attempts = 2;
  const std::unique_ptr<Storage> store = OpenOrFail(options_);
  ASSERT_NE(store, nullptr);
  server_->Pause();
  const auto start = std::chrono::steady_clock::now();
  const Status status = store->Get("jobs/o/a").status();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  server_->Resume();
  EXPECT_EQ(status.code(), ErrorCode::kUnavailable) << status.ToString();
  EXPECT_GE(elapsed, std::chrono::seconds(2));  // two attempts, each given up after a 1 s stall
  EXPECT_LT(elapsed, std::chrono::seconds(15));
  // Once it answers again, so do we.
  EXPECT_EQ(store->Get("jobs/o/a").value(), "before the outage");
}

}  // namespace
}  // namespace facefleet::storage
