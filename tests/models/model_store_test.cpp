// ModelStore against a local HTTP server: download, resume, mirrors, retries, hash and lock checks.
#include "models/model_store.hpp"

#include <zlib.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include "support/http_test_server.hpp"
#include "support/test_support.hpp"

namespace facefleet::models {
namespace {

namespace fs = std::filesystem;
using testing::HttpTestServer;
using testing::TempDir;

std::string RandomBytes(std::size_t size, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out(size, '\0');
  for (char& c : out) c = static_cast<char>(rng() & 0xFFU);
  return out;
}

// Computed here with zlib and OpenSSL directly, independently of the store's code.
std::string Crc32Hex(const std::string& bytes) {
  const uLong crc = crc32(0L, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size()));
  std::array<char, 9> text{};
  std::snprintf(text.data(), text.size(), "%08lx", crc);
  return text.data();
}

std::string Sha256Hex(const std::string& bytes) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int size = 0;
  EVP_Digest(bytes.data(), bytes.size(), md.data(), &size, EVP_sha256(), nullptr);
  std::string out;
  for (unsigned int i = 0; i < size; ++i) {
    std::array<char, 3> hex{};
    std::snprintf(hex.data(), hex.size(), "%02x", md[i]);
    out += hex.data();
  }
  return out;
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

class ModelStoreTest : public ::testing::Test {
 protected:
  ModelStoreTest()
      : model_(*FindModel("yunet_2023_mar")),
        store_(dir_.File("models")),
        bytes_(RandomBytes(3U << 20U, 20240601)),
        crc_(Crc32Hex(bytes_)) {}

  // "/<mirror>/<release>/<file>" on the test server.
  std::string ModelUrlPath(const std::string& mirror) const {
    return "/" + mirror + "/" + std::string(model_.release) + "/" + std::string(model_.file);
  }
  std::string HashUrlPath(const std::string& mirror) const {
    return "/" + mirror + "/" + std::string(model_.release) + "/" + fs::path(model_.file).stem().string() + ".hash";
  }
  void Publish(const std::string& mirror, const std::string& bytes, const std::string& crc) {
    server_.Serve(ModelUrlPath(mirror), bytes);
    server_.Serve(HashUrlPath(mirror), crc);
  }
  PullOptions Options(const std::vector<std::string>& mirrors) const {
    PullOptions options;
    for (const auto& mirror : mirrors)
      options.url_templates.push_back(server_.url() + "/" + mirror + "/{release}/{file}");
    options.retries = 2;
    options.initial_backoff_s = 0.01;
    options.connect_timeout_s = 5;
    return options;
  }
  std::string LockPath() const { return store_.models_dir() + "/models.lock"; }
  std::string PartPath() const { return store_.PathOf(model_) + ".part"; }

  TempDir dir_;
  HttpTestServer server_;
  const ModelInfo& model_;
  ModelStore store_;
  const std::string bytes_;
  const std::string crc_;
};

TEST_F(ModelStoreTest, PullsVerifiesAndRecordsSha256InLockFile) {
  Publish("a", bytes_, crc_);
  PullOptions options = Options({"a"});
  std::int64_t last_done = -1;
  std::int64_t last_total = -1;
  options.on_progress = [&](std::int64_t done, std::int64_t total) {
    EXPECT_GE(done, last_done);
    last_done = done;
    last_total = total;
  };
  ASSERT_FALSE(store_.Installed(model_));
  const Status pulled = store_.Pull(model_, options);
  ASSERT_TRUE(pulled.ok()) << pulled.ToString();

  EXPECT_TRUE(store_.Installed(model_));
  EXPECT_EQ(ReadText(store_.PathOf(model_)), bytes_);
  EXPECT_EQ(ReadText(store_.HashPathOf(model_)), crc_);
  EXPECT_FALSE(fs::exists(PartPath()));
  const std::string expected_line =
      std::string(model_.name) + " " + Sha256Hex(bytes_) + " " + std::to_string(bytes_.size()) + "\n";
  EXPECT_TRUE(Contains(ReadText(LockPath()), expected_line)) << ReadText(LockPath());
  EXPECT_EQ(last_done, static_cast<std::int64_t>(bytes_.size()));
  EXPECT_EQ(last_total, static_cast<std::int64_t>(bytes_.size()));
  // The .hash is fetched first, and every request names facefleet.
  const auto requests = server_.Requests();
  ASSERT_EQ(requests.size(), 2U);
  EXPECT_EQ(requests[0].path, HashUrlPath("a"));
  EXPECT_EQ(requests[1].path, ModelUrlPath("a"));
  EXPECT_EQ(requests[1].range, "");
  EXPECT_EQ(requests[1].user_agent.rfind("facefleet/", 0), 0U) << requests[1].user_agent;
  EXPECT_TRUE(store_.Verify(model_).ok()) << store_.Verify(model_).ToString();

  // Installed and verified: a second Pull does not touch the network.
  ASSERT_TRUE(store_.Pull(model_, options).ok());
  EXPECT_EQ(server_.Requests().size(), 2U);
}

TEST_F(ModelStoreTest, UsesZlibCrc32LikeFaceFusion) {
  Publish("a", "123456789", "CBF43926\n");  // the standard CRC-32 check value; case and newline tolerated
  const Status pulled = store_.Pull(model_, Options({"a"}));
  ASSERT_TRUE(pulled.ok()) << pulled.ToString();
  EXPECT_EQ(ReadText(store_.HashPathOf(model_)), "cbf43926");
}

TEST_F(ModelStoreTest, ResumesAfterTheConnectionIsCut) {
  Publish("a", bytes_, crc_);
  const std::size_t cut = (1U << 20U) + 123;
  server_.CutAfter(ModelUrlPath("a"), cut);
  const Status pulled = store_.Pull(model_, Options({"a"}));
  ASSERT_TRUE(pulled.ok()) << pulled.ToString();

  const auto requests = server_.RequestsFor(ModelUrlPath("a"));
  ASSERT_EQ(requests.size(), 2U);
  EXPECT_EQ(requests[0].range, "");
  EXPECT_EQ(requests[1].range, "bytes=" + std::to_string(cut) + "-");
  EXPECT_EQ(requests[1].status, 206);
  EXPECT_EQ(ReadText(store_.PathOf(model_)), bytes_);
  EXPECT_TRUE(store_.Verify(model_).ok());
}

TEST_F(ModelStoreTest, RestartsAStalePartFromAnEarlierRunThatDoesNotMatch) {
  fs::create_directories(store_.models_dir());
  WriteText(PartPath(), std::string(1000, 'z'));  // left by an earlier run, of other bytes
  Publish("a", bytes_, crc_);
  const Status pulled = store_.Pull(model_, Options({"a"}));
  ASSERT_TRUE(pulled.ok()) << pulled.ToString();

  const auto requests = server_.RequestsFor(ModelUrlPath("a"));
  ASSERT_EQ(requests.size(), 2U);
  EXPECT_EQ(requests[0].range, "bytes=1000-");
  EXPECT_EQ(requests[1].range, "");
  EXPECT_EQ(ReadText(store_.PathOf(model_)), bytes_);
}

TEST_F(ModelStoreTest, RejectsAWrongHashAndInstallsNothing) {
  const std::string wrong = crc_ == "deadbeef" ? "deadbee0" : "deadbeef";
  Publish("a", bytes_, wrong);
  const Status pulled = store_.Pull(model_, Options({"a"}));
  ASSERT_EQ(pulled.code(), ErrorCode::kModelUnavailable);
  EXPECT_TRUE(Contains(pulled.message(), std::string(model_.name))) << pulled.message();
  EXPECT_TRUE(Contains(pulled.message(), "expected " + wrong)) << pulled.message();
  EXPECT_TRUE(Contains(pulled.message(), "got " + crc_)) << pulled.message();
  EXPECT_FALSE(fs::exists(store_.PathOf(model_)));
  EXPECT_FALSE(fs::exists(store_.HashPathOf(model_)));
  EXPECT_FALSE(fs::exists(PartPath()));
  EXPECT_FALSE(fs::exists(LockPath()));
  EXPECT_FALSE(store_.Installed(model_));
}

TEST_F(ModelStoreTest, FallsBackToTheNextMirrorOn404) {
  Publish("b", bytes_, crc_);  // nothing under /a
  const Status pulled = store_.Pull(model_, Options({"a", "b"}));
  ASSERT_TRUE(pulled.ok()) << pulled.ToString();
  EXPECT_EQ(ReadText(store_.PathOf(model_)), bytes_);
  const auto missing = server_.RequestsFor(HashUrlPath("a"));
  ASSERT_EQ(missing.size(), 1U);  // a 404 is final: not retried
  EXPECT_EQ(missing[0].status, 404);
  EXPECT_TRUE(server_.RequestsFor(ModelUrlPath("a")).empty());
}

TEST_F(ModelStoreTest, FollowsRedirects) {
  Publish("cdn", bytes_, crc_);
  server_.Redirect(HashUrlPath("a"), HashUrlPath("cdn"));
  server_.Redirect(ModelUrlPath("a"), server_.url() + ModelUrlPath("cdn"));
  const Status pulled = store_.Pull(model_, Options({"a"}));
  ASSERT_TRUE(pulled.ok()) << pulled.ToString();
  EXPECT_EQ(ReadText(store_.PathOf(model_)), bytes_);
}

TEST_F(ModelStoreTest, RetriesServerErrors) {
  Publish("a", bytes_, crc_);
  server_.Fail(ModelUrlPath("a"), 500, 2);
  server_.Fail(HashUrlPath("a"), 503, 1);
  const Status pulled = store_.Pull(model_, Options({"a"}));
  ASSERT_TRUE(pulled.ok()) << pulled.ToString();
  EXPECT_EQ(server_.RequestsFor(HashUrlPath("a")).size(), 2U);
  const auto requests = server_.RequestsFor(ModelUrlPath("a"));
  ASSERT_EQ(requests.size(), 3U);
  EXPECT_EQ(requests[2].status, 200);
  EXPECT_EQ(ReadText(store_.PathOf(model_)), bytes_);
}

TEST_F(ModelStoreTest, GivesUpAfterTheLastRetry) {
  Publish("a", bytes_, crc_);
  server_.Fail(ModelUrlPath("a"), 500);
  PullOptions options = Options({"a"});
  options.retries = 3;
  const Status pulled = store_.Pull(model_, options);
  ASSERT_EQ(pulled.code(), ErrorCode::kModelUnavailable);
  EXPECT_TRUE(Contains(pulled.message(), "HTTP 500")) << pulled.message();
  EXPECT_EQ(server_.RequestsFor(ModelUrlPath("a")).size(), 4U);
  EXPECT_FALSE(fs::exists(store_.PathOf(model_)));
}

TEST_F(ModelStoreTest, OfflineErrorNamesEveryUrlAndWhereToPutTheFile) {
  const std::string base = "http://127.0.0.1:" + std::to_string(testing::UnusedPort());
  PullOptions options = Options({});
  options.url_templates = {base + "/one/{release}/{file}", base + "/two/{release}/{file}"};
  options.retries = 1;
  const auto start = std::chrono::steady_clock::now();
  const Status pulled = store_.Pull(model_, options);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  ASSERT_EQ(pulled.code(), ErrorCode::kModelUnavailable);
  const std::string& message = pulled.message();
  EXPECT_TRUE(Contains(message, base + "/one/" + std::string(model_.release) + "/" + std::string(model_.file)))
      << message;
  EXPECT_TRUE(Contains(message, base + "/two/" + std::string(model_.release) + "/" + std::string(model_.file)))
      << message;
  EXPECT_TRUE(Contains(message, "put the file at " + store_.PathOf(model_))) << message;
  EXPECT_TRUE(Contains(message, store_.HashPathOf(model_))) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << "one line: " << message;
}

TEST_F(ModelStoreTest, VerifyDetectsACorruptedFile) {
  EXPECT_TRUE(Contains(store_.Verify(model_).message(), "not installed"));
  Publish("a", bytes_, crc_);
  ASSERT_TRUE(store_.Pull(model_, Options({"a"})).ok());
  std::string corrupted = bytes_;
  corrupted[corrupted.size() / 2] ^= 0x01;
  WriteText(store_.PathOf(model_), corrupted);

  const Status verified = store_.Verify(model_);
  ASSERT_EQ(verified.code(), ErrorCode::kModelUnavailable);
  EXPECT_TRUE(Contains(verified.message(), store_.PathOf(model_))) << verified.message();
  EXPECT_TRUE(Contains(verified.message(), "CRC32 " + Crc32Hex(corrupted))) << verified.message();

  // Pull repairs it.
  ASSERT_TRUE(store_.Pull(model_, Options({"a"})).ok());
  EXPECT_TRUE(store_.Verify(model_).ok());
  EXPECT_EQ(ReadText(store_.PathOf(model_)), bytes_);
}

TEST_F(ModelStoreTest, LockFilePinsTheFirstDownload) {
  Publish("a", bytes_, crc_);
  ASSERT_TRUE(store_.Pull(model_, Options({"a"})).ok());
  // Someone swaps the file and its .hash for other bytes: the CRC matches, the lock does not.
  const std::string other = RandomBytes(bytes_.size(), 7);
  WriteText(store_.PathOf(model_), other);
  WriteText(store_.HashPathOf(model_), Crc32Hex(other));
  const Status verified = store_.Verify(model_);
  ASSERT_EQ(verified.code(), ErrorCode::kModelUnavailable);
  EXPECT_TRUE(Contains(verified.message(), "models.lock")) << verified.message();
  EXPECT_TRUE(Contains(verified.message(), Sha256Hex(bytes_))) << verified.message();

  // A mirror now serving those other bytes (with a matching .hash) is refused as well.
  fs::remove(store_.PathOf(model_));
  Publish("b", other, Crc32Hex(other));
  const Status pulled = store_.Pull(model_, Options({"b"}));
  ASSERT_EQ(pulled.code(), ErrorCode::kModelUnavailable);
  EXPECT_TRUE(Contains(pulled.message(), "models.lock")) << pulled.message();
  EXPECT_FALSE(fs::exists(store_.PathOf(model_)));
}

TEST_F(ModelStoreTest, ConcurrentPullsDownloadOnce) {
  Publish("a", bytes_, crc_);
  const PullOptions options = Options({"a"});
  Status first;
  Status second;
  std::thread other([&] { first = store_.Pull(model_, options); });
  second = store_.Pull(model_, options);
  other.join();
  ASSERT_TRUE(first.ok()) << first.ToString();
  ASSERT_TRUE(second.ok()) << second.ToString();
  EXPECT_EQ(server_.RequestsFor(ModelUrlPath("a")).size(), 1U);
  EXPECT_EQ(ReadText(store_.PathOf(model_)), bytes_);
}

// Sets or clears environment variables for one test and restores them afterwards.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    Set(value);
  }
  ~ScopedEnv() { Set(old_ ? old_->c_str() : nullptr); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  void Set(const char* value) {
    if (value == nullptr) {
      ::unsetenv(name_.c_str());
    } else {
      ::setenv(name_.c_str(), value, 1);
    }
  }
  std::string name_;
  std::optional<std::string> old_;
};

TEST(DefaultModelsDirTest, FollowsEnvironmentThenXdgThenHome) {
  const ScopedEnv home("HOME", "/home/someone");
  {
    const ScopedEnv models("FACEFLEET_MODELS_DIR", "/srv/models");
    const ScopedEnv xdg("XDG_DATA_HOME", "/data");
    EXPECT_EQ(DefaultModelsDir(), "/srv/models");
  }
  const ScopedEnv models("FACEFLEET_MODELS_DIR", nullptr);
  {
    const ScopedEnv xdg("XDG_DATA_HOME", "/data");
    EXPECT_EQ(DefaultModelsDir(), "/data/facefleet/models");
  }
  const ScopedEnv xdg("XDG_DATA_HOME", nullptr);
  EXPECT_EQ(DefaultModelsDir(), "/home/someone/.local/share/facefleet/models");
}

}  // namespace
}  // namespace facefleet::models
