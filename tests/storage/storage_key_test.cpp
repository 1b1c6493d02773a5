// Key and prefix rules (storage.hpp): the boundaries and the messages; the refusal table is in the contract.
#include <string>

#include <gtest/gtest.h>

#include "storage/storage.hpp"

namespace facefleet::storage {
namespace {

TEST(StorageKeyTest, LengthLimitIs512Bytes) {
  EXPECT_TRUE(ValidateKey(std::string(512, 'a')).ok());
  EXPECT_EQ(ValidateKey(std::string(513, 'a')).code(), ErrorCode::kInvalidRequest);
  EXPECT_TRUE(ValidateKey(std::string(255, 'a') + "/" + std::string(256, 'b')).ok());
}

TEST(StorageKeyTest, MessageNamesTheKeyAndTheRule) {
  const Status status = ValidateKey("jobs//input.png");
  EXPECT_NE(status.message().find("'jobs//input.png'"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("empty segment"), std::string::npos) << status.message();
  EXPECT_NE(ValidateKey("jobs/A").message().find("[a-z0-9._-]"), std::string::npos);
  EXPECT_NE(ValidateKey("jobs/../x").message().find("'..'"), std::string::npos);
}

TEST(StorageKeyTest, MessageEscapesControlBytesAndTruncatesLongKeys) {
  const std::string message = ValidateKey(std::string("a\nb\x7f", 4)).message();
  EXPECT_NE(message.find("'a\\x0ab\\x7f'"), std::string::npos) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos);
  const std::string long_message = ValidateKey(std::string(600, 'k')).message();
  EXPECT_LT(long_message.size(), 200U) << long_message;
  EXPECT_NE(long_message.find("...'"), std::string::npos) << long_message;
}

TEST(StorageKeyTest, TempFilePrefixIsReserved) {
  EXPECT_EQ(ValidateKey(".tmp-0123").code(), ErrorCode::kInvalidRequest);
  EXPECT_EQ(ValidateKey("jobs/.tmp-x/y").code(), ErrorCode::kInvalidRequest);
  EXPECT_TRUE(ValidateKey("jobs/.tmp").ok());
  EXPECT_TRUE(ValidateKey("jobs/x.tmp-1").ok());
}

TEST(StorageKeyTest, Prefixes) {
  EXPECT_TRUE(ValidatePrefix("jobs/").ok());
  EXPECT_TRUE(ValidatePrefix("jobs/abc-123/").ok());
  for (const std::string prefix : {"", "/", "jobs", "jobs//", "/jobs/", "jobs/../", "jobs/./", "JOBS/", ".tmp-1/"}) {
    EXPECT_EQ(ValidatePrefix(prefix).code(), ErrorCode::kInvalidRequest) << "'" << prefix << "'";
  }
  EXPECT_NE(ValidatePrefix("jobs").message().find("end with '/'"), std::string::npos);
}

}  // namespace
}  // namespace facefleet::storage
