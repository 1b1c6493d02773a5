#include "facefleet/status.hpp"

#include <set>

#include <gtest/gtest.h>

namespace facefleet {
namespace {

TEST(StatusTest, DefaultIsOk) {
  const Status status;
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(status.ToString(), "ok");
  EXPECT_EQ(error_info(status.code()).exit_code, 0);
}

TEST(StatusTest, ToStringHasCodeNameAndMessage) {
  const Status status(ErrorCode::kNoFace, "a.jpg: no face found in source");
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(status.ToString(), "no_face: a.jpg: no face found in source");
}

// The CLI promises one distinct exit code per error class; the README documents these numbers.
TEST(StatusTest, ExitCodesPerClassAreDistinctAndStable) {
  EXPECT_EQ(error_info(ErrorCode::kInternal).exit_code, 1);
  EXPECT_EQ(error_info(ErrorCode::kUsage).exit_code, 2);
  EXPECT_EQ(error_info(ErrorCode::kInputUnreadable).exit_code, 3);
  EXPECT_EQ(error_info(ErrorCode::kUnsupportedMedia).exit_code, 3);
  EXPECT_EQ(error_info(ErrorCode::kNoFace).exit_code, 4);
  EXPECT_EQ(error_info(ErrorCode::kLimitExceeded).exit_code, 5);
  EXPECT_EQ(error_info(ErrorCode::kOutputFailed).exit_code, 6);
  EXPECT_EQ(error_info(ErrorCode::kModelUnavailable).exit_code, 7);
}

TEST(StatusTest, EveryCodeHasAUniqueNameAndAnErrorHttpStatus) {
  std::set<std::string_view> names;
  for (int code = 1; code <= static_cast<int>(ErrorCode::kUnavailable); ++code) {
    const ErrorInfo& info = error_info(static_cast<ErrorCode>(code));
    EXPECT_TRUE(names.insert(info.name).second) << info.name;
    EXPECT_GE(info.http_status, 400) << info.name;
    EXPECT_NE(info.exit_code, 0) << info.name;
  }
  EXPECT_EQ(error_info(ErrorCode::kUnsupportedMedia).http_status, 415);
  EXPECT_EQ(error_info(ErrorCode::kLimitExceeded).http_status, 422);  // pixel/duration limits: unprocessable
  EXPECT_EQ(error_info(ErrorCode::kPayloadTooLarge).http_status, 413);
  EXPECT_EQ(error_info(ErrorCode::kUsage).http_status, 422);  // a bad option value names the field
  EXPECT_EQ(error_info(ErrorCode::kInvalidRequest).http_status, 400);
  EXPECT_EQ(error_info(ErrorCode::kConflict).http_status, 409);
  EXPECT_EQ(error_info(ErrorCode::kUnauthenticated).http_status, 401);
  EXPECT_EQ(error_info(ErrorCode::kRateLimited).http_status, 429);
  EXPECT_EQ(error_info(ErrorCode::kUnavailable).http_status, 503);
  EXPECT_EQ(error_info(ErrorCode::kNotFound).http_status, 404);
}

TEST(ResultTest, HoldsValueOrStatus) {
  Result<int> good = 7;
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 7);
  EXPECT_TRUE(good.status().ok());
  Result<int> bad(ErrorCode::kUsage, "bad flag");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kUsage);
  EXPECT_EQ(bad.status().message(), "bad flag");
}

}  // namespace
}  // namespace facefleet
