// SigV4 signing (src/storage/sigv4.hpp) against the examples AWS publishes for S3 (the "Signature Version 4"
// pages of the S3 API reference: header authentication for GET object, PUT object, GET bucket lifecycle and
// list objects, and query-string authentication for a presigned GET). s3rver does not check signatures, so
// these vectors are what proves our signatures are ones S3 accepts.
#include "storage/sigv4.hpp"

#include <chrono>
#include <string>

#include <gtest/gtest.h>

namespace facefleet::storage::sigv4 {
namespace {

// The example account, region and time used throughout AWS's S3 SigV4 examples.
const Credentials kExampleCredentials{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
constexpr std::string_view kRegion = "us-east-1";
constexpr std::string_view kDate = "20130524T000000Z";
constexpr std::string_view kHost = "examplebucket.s3.amazonaws.com";

// A header-signed example request: host, x-amz-date and x-amz-content-sha256 plus `extra` headers.
Request ExampleRequest(std::string method, std::string path, Params query, Params extra,
                       std::string payload_hash = std::string(kEmptyPayloadHash)) {
  Request request{.method = std::move(method),
                  .path = std::move(path),
                  .query = std::move(query),
                  .headers = {{"Host", std::string(kHost)},
                              {"x-amz-date", std::string(kDate)},
                              {"x-amz-content-sha256", payload_hash}},
                  .payload_hash = payload_hash};
  for (auto& header : extra) request.headers.push_back(std::move(header));
  return request;
}

std::string ExampleSignature(const Request& request) {
  return Signature(kExampleCredentials.secret_access_key, kDate, kRegion, "s3", request);
}

TEST(SigV4AwsExamples, GetObjectWithRange) {
  const Request request = ExampleRequest("GET", "/test.txt", {}, {{"Range", "bytes=0-9"}});
  EXPECT_EQ(CanonicalRequest(request),
            "GET\n/test.txt\n\n"
            "host:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
            "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
            "x-amz-date:20130524T000000Z\n\n"
            "host;range;x-amz-content-sha256;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(StringToSign(kDate, kRegion, "s3", CanonicalRequest(request)),
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(ExampleSignature(request), "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  EXPECT_EQ(AuthorizationHeader(kExampleCredentials, kDate, kRegion, "s3", request),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4AwsExamples, PutObjectWithStorageClass) {
  const std::string body = "Welcome to Amazon S3.";
  const std::string payload_hash = Sha256Hex(body);
  EXPECT_EQ(payload_hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  const Request request = ExampleRequest(
      "PUT", "/test$file.text", {},
      {{"Date", "Fri, 24 May 2013 00:00:00 GMT"}, {"x-amz-storage-class", "REDUCED_REDUNDANCY"}}, payload_hash);
  const std::string canonical = CanonicalRequest(request);
  // '$' is not unreserved: the path carries it as %24.
  EXPECT_TRUE(canonical.starts_with("PUT\n/test%24file.text\n\ndate:Fri, 24 May 2013 00:00:00 GMT\n")) << canonical;
  EXPECT_TRUE(canonical.ends_with("\ndate;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class\n" + payload_hash))
      << canonical;
  EXPECT_EQ(ExampleSignature(request), "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4AwsExamples, GetBucketLifecycle) {
  const Request request = ExampleRequest("GET", "/", {{"lifecycle", ""}}, {});
  // A value-less subresource is "name=" in the canonical query.
  EXPECT_TRUE(CanonicalRequest(request).starts_with("GET\n/\nlifecycle=\nhost:")) << CanonicalRequest(request);
  EXPECT_EQ(ExampleSignature(request), "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(SigV4AwsExamples, ListObjects) {
  // Given out of order: the canonical query sorts them.
  const Request request = ExampleRequest("GET", "/", {{"prefix", "J"}, {"max-keys", "2"}}, {});
  EXPECT_TRUE(CanonicalRequest(request).starts_with("GET\n/\nmax-keys=2&prefix=J\nhost:")) << CanonicalRequest(request);
  EXPECT_EQ(ExampleSignature(request), "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4AwsExamples, PresignedGetObject) {
  Request request{
      .method = "GET", .path = "/test.txt", .query = {}, .headers = {{"host", std::string(kHost)}}, .payload_hash = {}};
  const std::string query = PresignedQuery(kExampleCredentials, kDate, kRegion, "s3", 86400, request);
  EXPECT_EQ(query,
            "X-Amz-Algorithm=AWS4-HMAC-SHA256"
            "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
            "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
            "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
}

TEST(SigV4, PresignedQueryCarriesSessionToken) {
  Credentials temporary = kExampleCredentials;
  temporary.session_token = "token/with+chars=";
  const Request request{
      .method = "GET", .path = "/test.txt", .query = {}, .headers = {{"host", std::string(kHost)}}, .payload_hash = {}};
  const std::string with_token = PresignedQuery(temporary, kDate, kRegion, "s3", 3600, request);
  const std::string without = PresignedQuery(kExampleCredentials, kDate, kRegion, "s3", 3600, request);
  // Signed as part of the query (sorted before X-Amz-SignedHeaders), encoded like every query value.
  EXPECT_NE(with_token.find("&X-Amz-Security-Token=token%2Fwith%2Bchars%3D&X-Amz-SignedHeaders=host&"),
            std::string::npos)
      << with_token;
  EXPECT_NE(with_token.substr(with_token.rfind('=')), without.substr(without.rfind('=')));
}

TEST(SigV4, UriEncodeFollowsS3Rules) {
  EXPECT_EQ(UriEncode("AZaz09-._~", true), "AZaz09-._~");
  EXPECT_EQ(UriEncode("a b+c*d=e&f%g$h", true), "a%20b%2Bc%2Ad%3De%26f%25g%24h");
  EXPECT_EQ(UriEncode("dir/sub/file", false), "dir/sub/file");
  EXPECT_EQ(UriEncode("dir/sub/file", true), "dir%2Fsub%2Ffile");
  // UTF-8 bytes, upper-case hex.
  EXPECT_EQ(UriEncode("caf\xc3\xa9 \xe2\x82\xac", false), "caf%C3%A9%20%E2%82%AC");
  EXPECT_EQ(UriEncode(std::string("a\0b", 3), true), "a%00b");
}

TEST(SigV4, CanonicalRequestEncodesKeysOnce) {
  const Request request{.method = "GET",
                        .path = "/bucket/dir/a b$\xc3\xbc.txt",
                        .query = {},
                        .headers = {{"host", "s3.example.com"}},
                        .payload_hash = std::string(kEmptyPayloadHash)};
  EXPECT_EQ(CanonicalRequest(request),
            "GET\n/bucket/dir/a%20b%24%C3%BC.txt\n\nhost:s3.example.com\n\nhost\n" + std::string(kEmptyPayloadHash));
  // An empty path is the root.
  Request root = request;
  root.path.clear();
  EXPECT_TRUE(CanonicalRequest(root).starts_with("GET\n/\n"));
}

TEST(SigV4, CanonicalQuerySortsEncodedNamesThenValues) {
  const Params query = {{"b", "2"}, {"a", "1"}, {"a", "0"}, {"A", "x"}, {"c d", "e/f"}, {"uploads", ""}};
  // Byte order: upper case before lower case; equal names ordered by value.
  EXPECT_EQ(CanonicalQueryString(query), "A=x&a=0&a=1&b=2&c%20d=e%2Ff&uploads=");
  EXPECT_EQ(CanonicalQueryString({}), "");
}

TEST(SigV4, CanonicalHeadersTrimLowerSortAndMerge) {
  const Request request{
      .method = "PUT",
      .path = "/k",
      .query = {},
      .headers = {{"X-Amz-Meta-B", "  two   words  "}, {"Host", "h"}, {"x-amz-meta-a", "1"}, {"X-AMZ-META-A", "2"}},
      .payload_hash = "UNSIGNED-PAYLOAD"};
  EXPECT_EQ(CanonicalRequest(request),
            "PUT\n/k\n\nhost:h\nx-amz-meta-a:1,2\nx-amz-meta-b:two words\n\nhost;x-amz-meta-a;x-amz-meta-b\n"
            "UNSIGNED-PAYLOAD");
  EXPECT_EQ(SignedHeaderNames(request.headers), "host;x-amz-meta-a;x-amz-meta-b");
}

TEST(SigV4, DatesAndScope) {
  const auto time = std::chrono::system_clock::time_point(std::chrono::seconds(1369353600));  // 2013-05-24Z
  EXPECT_EQ(AmzDate(time), "20130524T000000Z");
  EXPECT_EQ(AmzDate(time + std::chrono::seconds(86399) + std::chrono::milliseconds(999)), "20130524T235959Z");
  EXPECT_EQ(CredentialScope("20130524T000000Z", "eu-west-1", "s3"), "20130524/eu-west-1/s3/aws4_request");
}

TEST(SigV4, HashesAndMacs) {
  EXPECT_EQ(Sha256Hex(""), kEmptyPayloadHash);
  EXPECT_EQ(HexEncode(std::string("\x00\xff\x10", 3)), "00ff10");
  // RFC 4231 test case 2.
  EXPECT_EQ(HexEncode(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

}  // namespace
}  // namespace facefleet::storage::sigv4
