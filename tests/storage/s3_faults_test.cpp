// The S3 backend against a scripted HTTP server, for what s3rver cannot show: signatures checked against the
// bytes curl actually sent, retries of 5xx (never 4xx), reads resumed after a cut transfer, stores ignoring Range,
// errors inside 200 answers, and the DeleteObjects fallback.
#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include "storage/s3_client.hpp"
#include "storage/s3_storage.hpp"
#include "storage/scripted_http_server.hpp"
#include "storage/sigv4.hpp"

namespace facefleet::storage {
namespace {

using testing::ScriptedHttpServer;
using Response = ScriptedHttpServer::Response;
constexpr const char* kSecret = "scripted/secret+key";

std::unique_ptr<Storage> OpenFake(const ScriptedHttpServer& server, std::size_t part_size = std::size_t{5} << 20) {
  S3Options options;
  options.bucket = "bucket";
  options.endpoint = server.endpoint();
  options.path_style = true;
  options.access_key_id = "AKIDSCRIPTED";
  options.secret_access_key = kSecret;
  options.part_size = part_size;
  options.initial_backoff = std::chrono::milliseconds(1);
  options.max_backoff = std::chrono::milliseconds(5);
  options.stall_timeout = std::chrono::seconds(5);
  Result<std::unique_ptr<Storage>> storage = OpenS3Storage(options);
  EXPECT_TRUE(storage.ok()) << storage.status().ToString();
  return storage.ok() ? std::move(storage).value() : nullptr;
}

Response Answer(int status, std::string body = "", std::vector<std::pair<std::string, std::string>> headers = {}) {
  Response response;
  response.status = status;
  response.body = std::move(body);
  response.headers = std::move(headers);
  return response;
}

Response S3ErrorAnswer(int status, const std::string& code) {
  return Answer(status, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + code +
                            "</Code><Message>scripted</Message></Error>");
}

std::string Bytes(std::size_t size) {
  std::string out(size, '\0');
  for (std::size_t i = 0; i < size; ++i) out[i] = static_cast<char>((i * 7919) >> 3);
  return out;
}

// Recomputes the SigV4 signature of a request as it arrived and compares it with the one it carries.
void ExpectValidSignature(const ScriptedHttpServer::Request& request) {
  SCOPED_TRACE(request.method + " " + request.target);
  const std::string authorization = request.Header("authorization");
  const std::size_t signed_at = authorization.find("SignedHeaders=");
  const std::size_t signature_at = authorization.find(",Signature=");
  ASSERT_NE(signed_at, std::string::npos) << authorization;
  ASSERT_NE(signature_at, std::string::npos) << authorization;
  EXPECT_TRUE(authorization.starts_with("AWS4-HMAC-SHA256 Credential=AKIDSCRIPTED/")) << authorization;
  EXPECT_NE(authorization.find("/us-east-1/s3/aws4_request,"), std::string::npos) << authorization;
  const std::string names = authorization.substr(signed_at + 14, signature_at - signed_at - 14);
  sigv4::Request signed_request;
  signed_request.method = request.method;
  const std::size_t question = request.target.find('?');
  signed_request.path = s3::UrlDecode(request.target.substr(0, question));
  std::string query = question == std::string::npos ? "" : request.target.substr(question + 1);
  while (!query.empty()) {
    const std::string param = query.substr(0, query.find('&'));
    query.erase(0, std::min(query.size(), param.size() + 1));
    const std::size_t equals = param.find('=');
    signed_request.query.emplace_back(s3::UrlDecode(param.substr(0, equals)),
                                      equals == std::string::npos ? "" : s3::UrlDecode(param.substr(equals + 1)));
  }
  std::string rest = names;
  while (!rest.empty()) {
    const std::string name = rest.substr(0, rest.find(';'));
    rest.erase(0, std::min(rest.size(), name.size() + 1));
    signed_request.headers.emplace_back(name, request.Header(name));
  }
  EXPECT_NE(names.find("host"), std::string::npos);
  signed_request.payload_hash = request.Header("x-amz-content-sha256");
  if (signed_request.payload_hash != sigv4::kUnsignedPayload) {
    EXPECT_EQ(signed_request.payload_hash, sigv4::Sha256Hex(request.body));
  }
  const std::string expected =
      sigv4::Signature(kSecret, request.Header("x-amz-date"), "us-east-1", "s3", signed_request);
  EXPECT_EQ(authorization.substr(signature_at + 11), expected);
  EXPECT_EQ(authorization.find(kSecret), std::string::npos);
}

TEST(S3Faults, SignaturesMatchTheBytesSent) {
  ScriptedHttpServer server;
  const std::unique_ptr<Storage> store = OpenFake(server);
  ASSERT_NE(store, nullptr);
  server.Push(Answer(200));
  ASSERT_TRUE(store->Put("jobs/j1/in.png", "payload bytes", "image/png").ok());
  server.Push(Answer(206, "ayl", {{"Content-Range", "bytes 1-3/13"}}));
  std::string got;
  ASSERT_TRUE(store
                  ->Read("jobs/j1/in.png", 1, 3,
                         [&got](std::string_view bytes) {
                           got.append(bytes);
                           return true;
                         })
                  .ok());
  EXPECT_EQ(got, "ayl");
  server.Push(Answer(200, "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>"));
  ASSERT_TRUE(store->List("jobs/").ok());
  const std::vector<ScriptedHttpServer::Request> requests = server.Requests();
  ASSERT_EQ(requests.size(), 3U);
  EXPECT_EQ(requests[0].target, "/bucket/jobs/j1/in.png");
  EXPECT_EQ(requests[0].Header("content-type"), "image/png");
  EXPECT_EQ(requests[1].Header("range"), "bytes=1-3");
  EXPECT_EQ(requests[2].target, "/bucket?encoding-type=url&list-type=2&max-keys=1000&prefix=jobs%2F");
  for (const auto& request : requests) ExpectValidSignature(request);
}

TEST(S3Faults, RetriesServerErrorsButNeverClientErrors) {
  ScriptedHttpServer server;
  const std::unique_ptr<Storage> store = OpenFake(server);
  ASSERT_NE(store, nullptr);
  server.Push(S3ErrorAnswer(503, "SlowDown"));
  server.Push(S3ErrorAnswer(500, "InternalError"));
  server.Push(Answer(200, "data"));
  const Result<std::string> data = store->Get("jobs/a");
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  EXPECT_EQ(*data, "data");
  EXPECT_EQ(server.Requests().size(), 3U);

  server.Push(S3ErrorAnswer(403, "AccessDenied"));
  const Status denied = store->Get("jobs/a").status();
  EXPECT_EQ(denied.code(), ErrorCode::kOutputFailed) << denied.ToString();
  EXPECT_NE(denied.message().find("S3 access denied (check credentials)"), std::string::npos);
  EXPECT_EQ(server.Requests().size(), 4U);

  server.Push(S3ErrorAnswer(400, "InvalidArgument"));
  EXPECT_EQ(store->Put("jobs/a", "x", "").status().code(), ErrorCode::kOutputFailed);
  EXPECT_EQ(server.Requests().size(), 5U);

  for (int i = 0; i < 3; ++i) server.Push(S3ErrorAnswer(503, "SlowDown"));
  const Status busy = store->Put("jobs/a", "x", "").status();
  EXPECT_EQ(busy.code(), ErrorCode::kUnavailable) << busy.ToString();
  EXPECT_NE(busy.message().find("after 3 attempt(s): HTTP 503 SlowDown"), std::string::npos) << busy.ToString();
  EXPECT_EQ(server.Requests().size(), 8U);
}

TEST(S3Faults, CutTransferResumesWhereItStopped) {
  ScriptedHttpServer server;
  const std::unique_ptr<Storage> store = OpenFake(server);
  ASSERT_NE(store, nullptr);
  const std::string body = Bytes(100000);
  Response cut =
      Answer(206, body.substr(100, 50000), {{"ETag", "\"v1\""}, {"Content-Range", "bytes 100-50099/100000"}});
  cut.cut_after = 20000;
  server.Push(cut);
  server.Push(
      Answer(206, body.substr(20100, 30000), {{"ETag", "\"v1\""}, {"Content-Range", "bytes 20100-50099/100000"}}));
  std::string got;
  const Status status = store->Read("jobs/big", 100, 50000, [&got](std::string_view bytes) {
    got.append(bytes);
    return true;
  });
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_TRUE(got == body.substr(100, 50000)) << got.size() << " bytes";
  const std::vector<ScriptedHttpServer::Request> requests = server.Requests();
  ASSERT_EQ(requests.size(), 2U);
  EXPECT_EQ(requests[0].Header("range"), "bytes=100-50099");
  EXPECT_EQ(requests[0].Header("if-match"), "");
  // The rest of the same range, pinned to the version already half read.
  EXPECT_EQ(requests[1].Header("range"), "bytes=20100-50099");
  EXPECT_EQ(requests[1].Header("if-match"), "\"v1\"");
}

TEST(S3Faults, ObjectReplacedBeforeResumeIsUnavailable) {
  ScriptedHttpServer server;
  const std::unique_ptr<Storage> store = OpenFake(server);
  ASSERT_NE(store, nullptr);
  Response cut = Answer(200, Bytes(10000), {{"ETag", "\"v1\""}});
  cut.cut_after = 4000;
  server.Push(cut);
  server.Push(S3ErrorAnswer(412, "PreconditionFailed"));
  const Status status = store->Get("jobs/big").status();
  EXPECT_EQ(status.code(), ErrorCode::kUnavailable) << status.ToString();
  EXPECT_NE(status.message().find("replaced while being read"), std::string::npos) << status.ToString();
}

TEST(S3Faults, StoreIgnoringRangeIsAnError) {
  ScriptedHttpServer server;
  const std::unique_ptr<Storage> store = OpenFake(server);
  ASSERT_NE(store, nullptr);
  server.Push(Answer(200, "0123456789abcdef"));
  int calls = 0;
  const Status status = store->Read("jobs/a", 10, 4, [&calls](std::string_view) {
    ++calls;
    return true;
  });
  EXPECT_EQ(status.code(), ErrorCode::kInternal) << status.ToString();
  EXPECT_EQ(calls, 0);
}

TEST(S3Faults, MultipartCommitRetriesAnErrorInsideOk) {
  ScriptedHttpServer server;
  const std::unique_ptr<Storage> store = OpenFake(server);
  ASSERT_NE(store, nullptr);
  server.Push(Answer(200,
                     "<InitiateMultipartUploadResult><Bucket>bucket</Bucket><Key>jobs/big</Key>"
                     "<UploadId>up&amp;1</UploadId></InitiateMultipartUploadResult>"));
  server.Push(Answer(200, "", {{"ETag", "\"p1\""}}));
  server.Push(Answer(200, "", {{"ETag", "\"p2\""}}));
  server.Push(Answer(200, "<?xml version=\"1.0\"?>\n<Error><Code>InternalError</Code></Error>"));
  server.Push(Answer(200, "<CompleteMultipartUploadResult><ETag>\"x-2\"</ETag></CompleteMultipartUploadResult>"));
  Result<std::unique_ptr<Writer>> writer = store->OpenWriter("jobs/big", "video/mp4");
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Append(Bytes(6 << 20)).ok());
  const Result<ObjectInfo> committed = (*writer)->Commit();
  ASSERT_TRUE(committed.ok()) << committed.status().ToString();
  EXPECT_EQ(committed->size, std::uint64_t{6} << 20);
  const std::vector<ScriptedHttpServer::Request> requests = server.Requests();
  ASSERT_EQ(requests.size(), 5U);
  EXPECT_EQ(requests[0].method + " " + requests[0].target, "POST /bucket/jobs/big?uploads=");
  EXPECT_EQ(requests[0].Header("content-type"), "video/mp4");
  EXPECT_EQ(requests[1].target, "/bucket/jobs/big?partNumber=1&uploadId=up%261");
  EXPECT_EQ(requests[1].body.size(), std::size_t{5} << 20);
  EXPECT_EQ(requests[1].Header("x-amz-content-sha256"), "UNSIGNED-PAYLOAD");
  EXPECT_EQ(requests[2].body.size(), std::size_t{1} << 20);
  EXPECT_EQ(requests[4].body, requests[3].body);
  EXPECT_EQ(requests[4].body,
            "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&quot;p1&quot;</ETag></Part>"
            "<Part><PartNumber>2</PartNumber><ETag>&quot;p2&quot;</ETag></Part></CompleteMultipartUpload>");
  for (const auto& request : requests) ExpectValidSignature(request);
}

std::string Base64Md5(const std::string& data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest.data(), &length, EVP_md5(), nullptr);
  std::array<unsigned char, 64> text{};
  const int written = EVP_EncodeBlock(text.data(), digest.data(), static_cast<int>(length));
  return {reinterpret_cast<const char*>(text.data()), static_cast<std::size_t>(written)};
}

TEST(S3Faults, DeletePrefixBatchesAndFallsBackToSingleDeletes) {
  ScriptedHttpServer server;
  const std::unique_ptr<Storage> store = OpenFake(server);
  ASSERT_NE(store, nullptr);
  const std::string listing =
      "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>jobs/a/x%26y</Key><Size>1</Size>"
      "<LastModified>2024-01-02T03:04:05.000Z</LastModified></Contents><Contents><Key>jobs/a/z</Key><Size>2</Size>"
      "</Contents></ListBucketResult>";
  server.Push(Answer(200, listing));
  server.Push(Answer(200, "<DeleteResult><Error><Key>jobs/a/z</Key><Code>AccessDenied</Code></Error></DeleteResult>"));
  const Status partial = store->DeletePrefix("jobs/a/");
  EXPECT_EQ(partial.code(), ErrorCode::kOutputFailed) << partial.ToString();
  EXPECT_NE(partial.message().find("s3://bucket/jobs/a/z: AccessDenied"), std::string::npos) << partial.ToString();
  std::vector<ScriptedHttpServer::Request> requests = server.Requests();
  ASSERT_EQ(requests.size(), 2U);
  EXPECT_EQ(requests[1].target, "/bucket?delete=");
  EXPECT_EQ(requests[1].body,
            "<Delete><Quiet>true</Quiet><Object><Key>jobs/a/x&amp;y</Key></Object>"
            "<Object><Key>jobs/a/z</Key></Object></Delete>");
  EXPECT_EQ(requests[1].Header("content-md5"), Base64Md5(requests[1].body));

  // A store without DeleteObjects (501): one DELETE per object.
  server.Push(Answer(200, listing));
  server.Push(S3ErrorAnswer(501, "NotImplemented"));
  server.Push(Answer(204));
  server.Push(Answer(404));
  EXPECT_TRUE(store->DeletePrefix("jobs/a/").ok());
  requests = server.Requests();
  ASSERT_EQ(requests.size(), 6U);
  EXPECT_EQ(requests[4].method + " " + requests[4].target, "DELETE /bucket/jobs/a/x%26y");
  EXPECT_EQ(requests[5].method + " " + requests[5].target, "DELETE /bucket/jobs/a/z");
}

}  // namespace
}  // namespace facefleet::storage
