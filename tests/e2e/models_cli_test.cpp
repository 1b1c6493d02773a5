// `facefleet models list|pull|verify` as a user runs it, against a local HTTP mirror.
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <gtest/gtest.h>

#include "support/http_test_server.hpp"
#include "support/test_support.hpp"

namespace facefleet {
namespace {

namespace fs = std::filesystem;
using testing::HttpTestServer;
using testing::ProcessResult;
using testing::RunProcess;
using testing::TempDir;

constexpr const char* kModel = "yunet_2023_mar";  // release models-3.4.0, file yunet_2023_mar.onnx

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The table line that starts with `name`, or "" when there is none.
std::string LineOf(const std::string& table, const std::string& name) {
  std::istringstream lines(table);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(name + " ", 0) == 0) return line;
  }
  return "";
}

class ModelsCliTest : public ::testing::Test {
 protected:
  ModelsCliTest() {
    std::mt19937 rng(42);
    bytes_.resize(300'000);
    for (char& c : bytes_) c = static_cast<char>(rng() & 0xFFU);
    const uLong crc = crc32(0L, reinterpret_cast<const Bytef*>(bytes_.data()), static_cast<uInt>(bytes_.size()));
    std::array<char, 9> hex{};
    std::snprintf(hex.data(), hex.size(), "%08lx", crc);
    server_.Serve("/m/models-3.4.0/yunet_2023_mar.onnx", bytes_);
    server_.Serve("/m/models-3.4.0/yunet_2023_mar.hash", hex.data());
  }

  ProcessResult Models(std::vector<std::string> args, const std::vector<std::string>& env = {}) {
    args.insert(args.begin(), {FACEFLEET_CLI_PATH, "models"});
    return RunProcess(args, env);
  }
  std::string Mirror() const { return server_.url() + "/m/{release}/{file}"; }
  std::string ModelPath() const { return models_dir_ + "/yunet_2023_mar.onnx"; }

  TempDir dir_;
  HttpTestServer server_;
  std::string bytes_;
  const std::string models_dir_ = dir_.File("models");
};

TEST_F(ModelsCliTest, PullListVerify) {
  const auto pulled = Models({"pull", kModel, "--models-dir", models_dir_, "--mirror", Mirror()});
  ASSERT_EQ(pulled.exit_code, 0) << pulled.err;
  EXPECT_EQ(pulled.out, ModelPath() + "\n");
  EXPECT_FALSE(Contains(pulled.err, "\r")) << "no progress bar without a TTY";
  EXPECT_EQ(testing::ReadBytes(ModelPath()), std::vector<unsigned char>(bytes_.begin(), bytes_.end()));

  const auto listed = Models({"list", "--models-dir", models_dir_});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_TRUE(Contains(LineOf(listed.out, "NAME"), "INSTALLED")) << listed.out;
  EXPECT_TRUE(LineOf(listed.out, kModel).ends_with(" yes")) << listed.out;
  EXPECT_TRUE(LineOf(listed.out, "inswapper_128").ends_with(" no")) << listed.out;
  EXPECT_TRUE(Contains(LineOf(listed.out, "inswapper_128"), "Non-Commercial")) << listed.out;

  const auto commercial = Models({"list", "--license", "commercial", "--models-dir", models_dir_});
  ASSERT_EQ(commercial.exit_code, 0) << commercial.err;
  EXPECT_EQ(LineOf(commercial.out, "inswapper_128"), "") << commercial.out;
  EXPECT_NE(LineOf(commercial.out, kModel), "") << commercial.out;

  const auto verified = Models({"verify", "--models-dir", models_dir_});
  ASSERT_EQ(verified.exit_code, 0) << verified.err;
  EXPECT_EQ(verified.out, std::string(kModel) + " ok\n");

  std::fstream file(ModelPath(), std::ios::in | std::ios::out | std::ios::binary);
  file.seekp(1000);
  file.put(static_cast<char>(bytes_[1000] ^ 0x40));
  file.close();
  const auto corrupt = Models({"verify", kModel, "--models-dir", models_dir_});
  EXPECT_EQ(corrupt.exit_code, 7) << corrupt.err;
  EXPECT_TRUE(Contains(corrupt.err, "facefleet models verify: error: model_unavailable: ")) << corrupt.err;
  EXPECT_TRUE(Contains(corrupt.err, ModelPath())) << corrupt.err;
}

TEST_F(ModelsCliTest, EnvironmentVariablesSetTheDirectoryAndMirror) {
  const auto pulled = Models({"pull", kModel}, {"FACEFLEET_MODELS_DIR=" + models_dir_, "FACEFLEET_MIRROR=" + Mirror()});
  ASSERT_EQ(pulled.exit_code, 0) << pulled.err;
  EXPECT_TRUE(fs::exists(ModelPath()));
  // Pulling again is a no-op that says so.
  const auto again = Models({"pull", kModel}, {"FACEFLEET_MODELS_DIR=" + models_dir_, "FACEFLEET_MIRROR=" + Mirror()});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_TRUE(Contains(again.err, "already installed")) << again.err;
  EXPECT_EQ(server_.RequestsFor("/m/models-3.4.0/yunet_2023_mar.onnx").size(), 1U);
}

TEST_F(ModelsCliTest, UnknownModelIsAUsageErrorListingValidNames) {
  for (const char* sub : {"pull", "verify"}) {
    const auto r = Models({sub, "no_such_model", "--models-dir", models_dir_});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_TRUE(Contains(r.err, "no_such_model")) << r.err;
    EXPECT_TRUE(Contains(r.err, "inswapper_128")) << r.err;
    EXPECT_TRUE(Contains(r.err, kModel)) << r.err;
  }
  const auto mixed = Models({"pull", kModel, "no_such_model", "--models-dir", models_dir_, "--mirror", Mirror()});
  EXPECT_EQ(mixed.exit_code, 2) << mixed.err;
  EXPECT_TRUE(server_.Requests().empty()) << "names are checked before any download";
  EXPECT_FALSE(fs::exists(ModelPath()));
  EXPECT_EQ(Models({"pull", "--models-dir", models_dir_}).exit_code, 2);
  EXPECT_EQ(Models({"verify", "--mirror", Mirror()}).exit_code, 2);
  EXPECT_EQ(Models({"frobnicate"}).exit_code, 2);
  EXPECT_EQ(Models({"list", "--license", "maybe"}).exit_code, 2);
}

TEST_F(ModelsCliTest, OfflinePullNamesTheUrlAndThePath) {
  const std::string base = "http://127.0.0.1:" + std::to_string(testing::UnusedPort());
  const auto r =
      Models({"pull", kModel, "--models-dir", models_dir_, "--mirror", base + "/{release}/{file}", "--retries", "0"});
  EXPECT_EQ(r.exit_code, 7) << r.err;
  EXPECT_TRUE(Contains(r.err, base + "/models-3.4.0/yunet_2023_mar.onnx")) << r.err;
  EXPECT_TRUE(Contains(r.err, ModelPath())) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(r.out, "");
}

TEST_F(ModelsCliTest, HelpShowsFlagsAndTheirEnvironmentVariables) {
  const auto r = Models({"pull", "--help"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Contains(r.out, "--mirror URL_TEMPLATE")) << r.out;
  EXPECT_TRUE(Contains(r.out, "FACEFLEET_MIRROR")) << r.out;
  EXPECT_TRUE(Contains(r.out, "--models-dir DIR")) << r.out;
  EXPECT_TRUE(Contains(r.out, "FACEFLEET_MODELS_DIR")) << r.out;
  const auto top = RunProcess({FACEFLEET_CLI_PATH, "--help"});
  EXPECT_TRUE(Contains(top.out, "models")) << top.out;
}

}  // namespace
}  // namespace facefleet
