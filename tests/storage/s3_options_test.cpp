// s3:// URLs, credentials and option checks of the S3 backend (src/storage/s3_storage.hpp); no network.
#include <stdlib.h>

#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "storage/s3_storage.hpp"
#include "support/temp_dir.hpp"

namespace facefleet::storage {
namespace {

TEST(ParseS3Url, GoodUrls) {
  const struct {
    std::string url;
    std::string bucket;
    std::string prefix;
    std::string endpoint;
    std::string region;
    bool path_style;
  } cases[] = {
      {"s3://bucket", "bucket", "", "", "us-east-1", false},
      {"s3://my-bucket.v2/", "my-bucket.v2", "", "", "us-east-1", false},
      {"s3://bucket/deploy/prod", "bucket", "deploy/prod", "", "us-east-1", false},
      {"s3://bucket/prefix/?region=eu-west-1", "bucket", "prefix", "", "eu-west-1", false},
      {"s3://bucket/prefix?endpoint=http://127.0.0.1:4568&region=us-east-1&path_style=1", "bucket", "prefix",
       "http://127.0.0.1:4568", "us-east-1", true},
      // With an endpoint, path style is the default (MinIO and most self-hosted stores need it)...
      {"s3://bucket?endpoint=https://minio.internal:9000", "bucket", "", "https://minio.internal:9000", "us-east-1",
       true},
      // ...and can be turned off (R2, Ceph with wildcard DNS).
      {"s3://bucket?endpoint=https://acc.r2.cloudflarestorage.com&path_style=0&region=auto", "bucket", "",
       "https://acc.r2.cloudflarestorage.com", "auto", false},
      {"s3://bucket?path_style=true", "bucket", "", "", "us-east-1", true},
      {"s3://bucket?endpoint=http%3A%2F%2Flocalhost%3A4568", "bucket", "", "http://localhost:4568", "us-east-1", true},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.url);
    const Result<S3Options> options = ParseS3Url(c.url);
    ASSERT_TRUE(options.ok()) << options.status().ToString();
    EXPECT_EQ(options->bucket, c.bucket);
    EXPECT_EQ(options->prefix, c.prefix);
    EXPECT_EQ(options->endpoint, c.endpoint);
    EXPECT_EQ(options->region, c.region);
    EXPECT_EQ(options->path_style, c.path_style);
    EXPECT_TRUE(options->access_key_id.empty());
    EXPECT_TRUE(options->secret_access_key.empty());
  }
}

TEST(ParseS3Url, BadUrlsAreUsageErrors) {
  const std::vector<std::string> bad = {
      "",
      "bucket/prefix",
      "s3:/bucket",
      "http://bucket",
      "s3://",
      "s3://ab",
      "s3://Bucket",
      "s3://-bucket",
      "s3://bucket-",
      "s3://bu..cket",
      "s3://bucket_name",
      std::string("s3://") + std::string(64, 'b'),
      "s3://bucket/Upper/prefix",
      "s3://bucket//double",
      "s3://bucket/../up",
      "s3://bucket/a b",
      "s3://bucket?endpoint=ftp://host",
      "s3://bucket?endpoint=http://",
      "s3://bucket?endpoint=http://host/path",
      "s3://bucket?endpoint=host:4568",
      "s3://bucket?region=EU_WEST",
      "s3://bucket?region=",
      "s3://bucket?path_style=yes",
      "s3://bucket?unknown=1",
  };
  for (const std::string& url : bad) {
    const Result<S3Options> options = ParseS3Url(url);
    EXPECT_EQ(options.status().code(), ErrorCode::kUsage) << "'" << url << "' parsed";
  }
}

TEST(ParseS3Url, CredentialsInUrlAreRefusedWithoutEchoingThem) {
  const std::vector<std::string> bad = {
      "s3://AKIAEXAMPLE:s3cr3t-value@bucket/prefix",
      "s3://bucket?access_key=AKIAEXAMPLE&secret_key=s3cr3t-value",
      "s3://bucket?aws_secret_access_key=s3cr3t-value",
      "s3://bucket?session_token=s3cr3t-value",
      "s3://bucket?endpoint=http://user:s3cr3t-value@host:9000",
  };
  for (const std::string& url : bad) {
    const Result<S3Options> options = ParseS3Url(url);
    ASSERT_EQ(options.status().code(), ErrorCode::kUsage) << url;
    EXPECT_EQ(options.status().message().find("s3cr3t-value"), std::string::npos) << options.status().ToString();
  }
  EXPECT_NE(ParseS3Url(bad[0]).status().message().find("AWS_ACCESS_KEY_ID"), std::string::npos);
}

// Sets (or, with nullopt, unsets) an environment variable for one test and restores it afterwards. These tests
// start no threads, so changing the environment is safe here.
// NOLINTBEGIN(concurrency-mt-unsafe)
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::optional<std::string>& value) : name_(name) {
    if (const char* old = ::getenv(name)) old_ = old;
    if (value) {
      ::setenv(name, value->c_str(), 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};
// NOLINTEND(concurrency-mt-unsafe)

// Runs LoadS3Credentials on empty options with exactly the credential variables in `env` set.
Result<S3Options> LoadWith(const std::map<std::string, std::string>& env) {
  const auto value = [&env](const char* name) -> std::optional<std::string> {
    const auto found = env.find(name);
    return found == env.end() ? std::nullopt : std::optional<std::string>(found->second);
  };
  const ScopedEnv key("AWS_ACCESS_KEY_ID", value("AWS_ACCESS_KEY_ID"));
  const ScopedEnv secret("AWS_SECRET_ACCESS_KEY", value("AWS_SECRET_ACCESS_KEY"));
  const ScopedEnv token("AWS_SESSION_TOKEN", value("AWS_SESSION_TOKEN"));
  const ScopedEnv key_file("FACEFLEET_S3_ACCESS_KEY_FILE", value("FACEFLEET_S3_ACCESS_KEY_FILE"));
  const ScopedEnv secret_file("FACEFLEET_S3_SECRET_KEY_FILE", value("FACEFLEET_S3_SECRET_KEY_FILE"));
  S3Options options;
  if (Status status = LoadS3Credentials(options); !status.ok()) return status;
  return options;
}

TEST(S3Credentials, FromEnvironment) {
  const Result<S3Options> options = LoadWith(
      {{"AWS_ACCESS_KEY_ID", "AKIAENV"}, {"AWS_SECRET_ACCESS_KEY", "env-secret"}, {"AWS_SESSION_TOKEN", "env-token"}});
  ASSERT_TRUE(options.ok()) << options.status().ToString();
  EXPECT_EQ(options->access_key_id, "AKIAENV");
  EXPECT_EQ(options->secret_access_key, "env-secret");
  EXPECT_EQ(options->session_token, "env-token");
}

TEST(S3Credentials, FromFilesWithoutTrailingNewline) {
  const facefleet::testing::TempDir dir;
  std::ofstream(dir.File("key")) << "AKIAFILE\n";
  std::ofstream(dir.File("secret")) << "file-secret\r\n";
  const Result<S3Options> options = LoadWith(
      {{"FACEFLEET_S3_ACCESS_KEY_FILE", dir.File("key")}, {"FACEFLEET_S3_SECRET_KEY_FILE", dir.File("secret")}});
  ASSERT_TRUE(options.ok()) << options.status().ToString();
  EXPECT_EQ(options->access_key_id, "AKIAFILE");
  EXPECT_EQ(options->secret_access_key, "file-secret");
  EXPECT_TRUE(options->session_token.empty());
}

TEST(S3Credentials, MissingOrUnreadableAreUsageErrors) {
  const Result<S3Options> none = LoadWith({});
  EXPECT_EQ(none.status().code(), ErrorCode::kUsage);
  EXPECT_NE(none.status().message().find("FACEFLEET_S3_ACCESS_KEY_FILE"), std::string::npos);
  EXPECT_EQ(LoadWith({{"AWS_ACCESS_KEY_ID", "AKIAONLY"}}).status().code(), ErrorCode::kUsage);
  const facefleet::testing::TempDir dir;
  std::ofstream(dir.File("empty")) << "";
  EXPECT_EQ(LoadWith({{"FACEFLEET_S3_ACCESS_KEY_FILE", dir.File("absent")},
                      {"FACEFLEET_S3_SECRET_KEY_FILE", dir.File("absent")}})
                .status()
                .code(),
            ErrorCode::kUsage);
  EXPECT_EQ(LoadWith({{"FACEFLEET_S3_ACCESS_KEY_FILE", dir.File("empty")},
                      {"FACEFLEET_S3_SECRET_KEY_FILE", dir.File("empty")}})
                .status()
                .code(),
            ErrorCode::kUsage);
}

TEST(S3Credentials, ExplicitOptionsWin) {
  const ScopedEnv key("AWS_ACCESS_KEY_ID", "AKIAENV");
  const ScopedEnv secret("AWS_SECRET_ACCESS_KEY", "env-secret");
  S3Options options;
  options.access_key_id = "AKIAOPTION";
  options.secret_access_key = "option-secret";
  ASSERT_TRUE(LoadS3Credentials(options).ok());
  EXPECT_EQ(options.access_key_id, "AKIAOPTION");
}

TEST(OpenS3Storage, ChecksOptionsWithoutContactingTheStore) {
  S3Options options;
  options.bucket = "bucket";
  options.endpoint = "http://127.0.0.1:9";  // nothing listens there: Open must not care
  options.access_key_id = "AKIA";
  options.secret_access_key = "secret";
  EXPECT_TRUE(OpenS3Storage(options).ok());
  S3Options small_parts = options;
  small_parts.part_size = 1024 * 1024;
  EXPECT_EQ(OpenS3Storage(small_parts).status().code(), ErrorCode::kUsage);
  S3Options bad_bucket = options;
  bad_bucket.bucket = "Bad_Bucket";
  EXPECT_EQ(OpenS3Storage(bad_bucket).status().code(), ErrorCode::kUsage);
  S3Options no_attempts = options;
  no_attempts.max_attempts = 0;
  EXPECT_EQ(OpenS3Storage(no_attempts).status().code(), ErrorCode::kUsage);
  S3Options no_credentials = options;
  no_credentials.access_key_id.clear();
  no_credentials.secret_access_key.clear();
  const ScopedEnv key("AWS_ACCESS_KEY_ID", std::nullopt);
  const ScopedEnv key_file("FACEFLEET_S3_ACCESS_KEY_FILE", std::nullopt);
  EXPECT_EQ(OpenS3Storage(no_credentials).status().code(), ErrorCode::kUsage);
}

}  // namespace
}  // namespace facefleet::storage
