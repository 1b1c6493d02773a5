// HTTP API contract: refused input (every error names the part, option or limit involved), transport limits,
// unknown ids and routes, and webhooks delivered to a loopback receiver (api_test_fixture.hpp).
#include <algorithm>
#include <chrono>
#include <ctime>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "api_test_fixture.hpp"

namespace facefleet::http::apitest {
namespace {

// A multipart/form-data body with `boundary`, built by hand (for streamed uploads).
std::string MultipartBody(const std::string& boundary, const std::vector<Part>& parts) {
  std::string body;
  for (const auto& part : parts) {
    body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + part.name + "\"";
    if (!part.filename.empty()) body += "; filename=\"" + part.filename + "\"";
    body += "\r\n";
    if (!part.content_type.empty()) body += "Content-Type: " + part.content_type + "\r\n";
    body += "\r\n" + part.content + "\r\n";
  }
  return body + "--" + boundary + "--\r\n";
}

// Sends `body` with Transfer-Encoding: chunked (no Content-Length), in 64 KiB chunks.
httplib::Result PostChunked(httplib::Client& client, const httplib::Headers& headers, const std::string& body,
                            const std::string& content_type) {
  return client.Post(
      "/v1/jobs", headers,
      [&body](std::size_t offset, httplib::DataSink& sink) {
        if (offset >= body.size()) {
          sink.done();
          return true;
        }
        const std::size_t size = std::min<std::size_t>(64 * 1024, body.size() - offset);
        return sink.write(body.data() + offset, size);
      },
      content_type);
}

// ---- Malformed requests ----------------------------------------------------------------------------------------

TEST_F(ApiTest, NonMultipartBodyIs400) {
  const auto res = Client().Post("/v1/jobs", Auth(svc().key_a()), R"({"source":"a.jpg"})", "application/json");
  ExpectError(res, 400, "invalid_request", "multipart/form-data");
}

TEST_F(ApiTest, MalformedMultipartIs400) {
  ExpectError(Client().Post("/v1/jobs", Auth(svc().key_a()), "this is not a multipart body at all\r\n",
                            "multipart/form-data; boundary=----facefleet-boundary"),
              400, "invalid_request", "multipart");
  const auto no_boundary =
      Client().Post("/v1/jobs", Auth(svc().key_a()), "--x\r\n\r\nbody\r\n--x--\r\n", "multipart/form-data");
  ExpectError(no_boundary, 400, "invalid_request");
  EXPECT_EQ(Code(Get("", "/healthz")), 200);
}

TEST_F(ApiTest, MissingTargetIs400NamingTarget) {
  ExpectError(Submit(svc().key_a(), {Parts()[0]}), 400, "invalid_request", "'target'");
}

TEST_F(ApiTest, MissingSourceIs400NamingSource) {
  ExpectError(Submit(svc().key_a(), {Parts()[1]}), 400, "invalid_request", "'source'");
}

TEST_F(ApiTest, EmptySourceIs422InputUnreadable) {
  auto parts = Parts();
  parts[0].content.clear();
  ExpectError(Submit(svc().key_a(), parts), 422, "input_unreadable", "source 1");
}

TEST_F(ApiTest, TextFileIs415) {
  auto parts = Parts();
  parts[0] = {"source", "just some text, not a photo\n", "notes.txt", "image/jpeg"};  // the type is not trusted
  ExpectError(Submit(svc().key_a(), parts), 415, "unsupported_media", "source 1");
  parts = Parts();
  parts[1] = {"target", "plain text target\n", "target.png", "image/png"};
  ExpectError(Submit(svc().key_a(), parts), 415, "unsupported_media", "target");
}

TEST_F(ApiTest, UnknownFormFieldIs400) {
  auto parts = Parts();
  parts.push_back({"extra", "value", "", ""});
  ExpectError(Submit(svc().key_a(), parts), 400, "invalid_request", "'extra'");
}

TEST_F(ApiTest, UnknownFormFieldFirstIs400) {
  auto parts = Parts();
  parts.insert(parts.begin(), {"extra", "value", "", ""});  // refused before the files are read
  ExpectError(Submit(svc().key_a(), parts), 400, "invalid_request", "'extra'");
}

TEST_F(ApiTest, OptionsThatAreNotJsonAre400) {
  ExpectError(Submit(svc().key_a(), Parts("{not json")), 400, "invalid_request", "options");
}

TEST_F(ApiTest, OptionsThatAreNotAnObjectAre422) {
  ExpectError(Submit(svc().key_a(), Parts("[1, 2]")), 422, "usage", "options");
  ExpectError(Submit(svc().key_a(), Parts("\"blend\"")), 422, "usage", "options");
}

TEST_F(ApiTest, UnknownOptionIs422NamingIt) {
  ExpectError(Submit(svc().key_a(), Parts(R"({"blend": 0.5, "bogus_option": 1})")), 422, "usage",
              "options.bogus_option");
}

TEST_F(ApiTest, RefusedSubmissionsLeaveNoFiles) {
  ExpectError(Submit(svc().key_a(), Parts(R"({"bogus_option": 1})")), 422, "usage");
  ExpectError(Submit(svc().key_a(), {Parts()[0]}), 400, "invalid_request");
  auto objects = svc().storage().List("");
  ASSERT_TRUE(objects.ok());
  EXPECT_TRUE(objects->empty()) << objects->front().key;
  EXPECT_TRUE(Json(Get(svc().key_a(), "/v1/jobs")).at("jobs").empty());
}

// ---- Size limits and the transport -----------------------------------------------------------------------------

TEST_F(ApiTest, UploadOverTheLimitIs413) {
  ServiceOptions options;
  options.server.max_upload_bytes = 200 * 1024;
  Start(options);
  ASSERT_GT(Grace().size() + Astronaut().size(), options.server.max_upload_bytes);
  ExpectError(Submit(svc().key_a(), Parts()), 413, "payload_too_large");
  // Within the limit (the source alone would be, but a job needs a target): a small upload still works.
  auto small = Parts();
  small[1] = {"target", Grace(), "target.jpg", "image/jpeg"};
  ASSERT_LT(2 * Grace().size(), options.server.max_upload_bytes);
  EXPECT_EQ(Code(Submit(svc().key_a(), small)), 202);
}

TEST_F(ApiTest, StreamedUploadOverTheLimitIs413) {
  ServiceOptions options;
  options.server.max_upload_bytes = 100 * 1024;
  Start(options);
  const std::string boundary = "facefleet-test-boundary-7d1e";
  auto client = Client();
  ExpectError(PostChunked(client, Auth(svc().key_a()), MultipartBody(boundary, Parts()),
                          "multipart/form-data; boundary=" + boundary),
              413, "payload_too_large", "limit");
  EXPECT_EQ(Code(Get("", "/healthz")), 200);
}

TEST_F(ApiTest, StreamedUploadWithinTheLimitIsAccepted) {
  const std::string boundary = "facefleet-test-boundary-7d1f";
  auto client = Client();
  const auto res = PostChunked(client, Auth(svc().key_a()), MultipartBody(boundary, Parts()),
                               "multipart/form-data; boundary=" + boundary);
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  ASSERT_EQ(res->status, 202) << res->body;
  const std::string id = Json(res).at("id");
  WaitForStatus(id, "succeeded");
  auto target = svc().storage().Get("jobs/" + id + "/target");
  ASSERT_TRUE(target.ok());
  EXPECT_EQ(*target, Astronaut());
}

TEST_F(ApiTest, OversizedHeaderIsRefusedAndTheServerKeepsServing) {
  const auto res = Get(svc().key_a(), "/v1/jobs", {{"X-Padding", std::string(20 * 1024, 'p')}});
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_GE(res->status, 400);
  EXPECT_LT(res->status, 500);
  EXPECT_EQ(Code(Get("", "/healthz")), 200);
  EXPECT_EQ(Code(Get(svc().key_a(), "/v1/jobs")), 200);
}

// A refusal decided before the upload is read (here: the key) is answered, not a reset connection, although the
// client is still sending a large body and asked to close the connection afterwards.
TEST_F(ApiTest, RefusedUploadIsAnsweredNotReset) {
  for (int i = 0; i < 5; ++i) ExpectError(Submit("not-a-key", Parts()), 401, "unauthenticated");
  svc().server().BeginDrain();
  for (int i = 0; i < 5; ++i) ExpectError(Submit(svc().key_a(), Parts()), 503, "unavailable");
}

// A refused upload must not leave its unread body on a kept-alive connection, where it would be parsed as the
// client's next request.
TEST_F(ApiTest, RefusedUploadDoesNotPoisonAKeptAliveConnection) {
  auto client = Client();
  client.set_keep_alive(true);
  const auto refused = client.Post("/v1/jobs", Auth("not-a-key"), Parts());
  ExpectError(refused, 401, "unauthenticated");
  const auto next = client.Get("/healthz");
  ASSERT_TRUE(next) << httplib::to_string(next.error());
  EXPECT_EQ(next->status, 200) << next->body;
  EXPECT_EQ(next->body, R"({"status":"ok"})");
}

TEST_F(ApiTest, AcceptedUploadKeepsTheConnectionUsable) {
  auto client = Client();
  client.set_keep_alive(true);
  const auto accepted = client.Post("/v1/jobs", Auth(svc().key_a()), Parts());
  ASSERT_EQ(Code(accepted), 202);
  const auto next = client.Get("/v1/jobs/" + Json(accepted).at("id").get<std::string>(), Auth(svc().key_a()));
  ASSERT_TRUE(next) << httplib::to_string(next.error());
  EXPECT_EQ(next->status, 200) << next->body;
}

// Stop() right after Start() must return: cpp-httplib's stop() does nothing until the accept loop runs, so Start
// has to wait for it. A server that never stops is leaked (its thread blocks in join) and reported.
TEST_F(ApiTest, StopRightAfterStartReturns) {
  svc();
  for (int i = 0; i < 50; ++i) {
    auto registry = std::make_shared<metrics::Registry>();
    ServiceContext ctx;
    ctx.queue = &svc().queue();
    ctx.storage = &svc().storage();
    ctx.keys = &svc().keys();
    ctx.metrics = registry.get();
    auto server = std::make_shared<ApiServer>(TestServerConfig(), ctx);
    ASSERT_TRUE(server->Start().ok());
    auto stopped = std::make_shared<std::promise<void>>();
    auto done = stopped->get_future();
    std::thread([server, registry, stopped] {
      server->Stop();
      stopped->set_value();
    }).detach();
    ASSERT_EQ(done.wait_for(std::chrono::seconds(2)), std::future_status::ready)
        << "ApiServer::Stop() right after Start() hangs (iteration " << i << ")";
  }
}

// ---- Unknown ids and routes ------------------------------------------------------------------------------------

TEST_F(ApiTest, UnknownJobIdIs404) {
  const std::string a = svc().key_a();
  const std::string unknown = "/v1/jobs/" + std::string(26, 'a');  // well-formed, never issued
  ExpectError(Get(a, unknown), 404, "not_found");
  ExpectError(Get(a, unknown + "/result"), 404, "not_found");
  ExpectError(Get(a, unknown + "/events"), 404, "not_found");
  ExpectError(Post(a, unknown + "/cancel"), 404, "not_found");
  ExpectError(Delete(a, unknown), 404, "not_found");
  for (const std::string garbage : {"/v1/jobs/not-a-job", "/v1/jobs/ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                                    "/v1/jobs/not-a-job/result", "/v1/jobs/x/events"}) {
    ExpectError(Get(a, garbage), 404, "not_found");
  }
  ExpectError(Post(a, "/v1/jobs/not-a-job/cancel"), 404, "not_found");
  ExpectError(Delete(a, "/v1/jobs/not-a-job"), 404, "not_found");
}

TEST_F(ApiTest, UnknownRouteIs404Json) {
  ExpectError(Get(svc().key_a(), "/v2/jobs"), 404, "not_found", "no such route");
  ExpectError(Post(svc().key_a(), "/nope"), 404, "not_found");
}

// ---- Webhooks --------------------------------------------------------------------------------------------------

TEST_F(ApiTest, WebhookWithAnotherSchemeIs422) {
  ExpectError(Submit(svc().key_a(), Parts(R"({"webhook": "ftp://x"})")), 422, "usage", "options.webhook");
  ExpectError(Submit(svc().key_a(), Parts(R"({"webhook": 42})")), 422, "usage", "options.webhook");
}

TEST_F(ApiTest, PrivateWebhookIsRefusedUnlessAllowed) {
  ServiceOptions options;
  options.allow_private_webhooks = false;
  Start(options);
  ExpectError(Submit(svc().key_a(), Parts(R"({"webhook": "http://127.0.0.1:9/hook"})")), 422, "usage",
              "options.webhook");
}

TEST_F(ApiTest, UnknownWebhookEventIs422) {
  ExpectError(
      Submit(svc().key_a(), Parts(R"({"webhook": "http://127.0.0.1:9/hook", "webhook_events": ["status", "bogus"]})")),
      422, "usage", "options.webhook_events");
  ExpectError(Submit(svc().key_a(), Parts(R"({"webhook_events": ["status"]})")), 422, "usage",
              "options.webhook_events");
}

std::int64_t NowSeconds() { return static_cast<std::int64_t>(std::time(nullptr)); }

TEST_F(ApiTest, CompletedWebhookIsSignedAndDescribesTheJob) {
  WebhookReceiver receiver;
  const std::string id = SubmitOk(nlohmann::json({{"webhook", receiver.Url()}}).dump());
  ASSERT_TRUE(receiver.WaitForEvent("completed", milliseconds(5000)));
  const auto hits = receiver.hits();
  ASSERT_EQ(hits.size(), 1U) << "only 'completed' was asked for";
  const auto& hit = hits[0];
  EXPECT_TRUE(VerifyWebhookSignature(kWebhookSecret, hit.signature, hit.body, NowSeconds(), 300)) << hit.signature;
  EXPECT_FALSE(VerifyWebhookSignature(kWebhookSecret, hit.signature, hit.body + " ", NowSeconds(), 300));
  const auto body = nlohmann::json::parse(hit.body);
  EXPECT_EQ(body.at("event"), "completed");
  EXPECT_EQ(body.at("job").at("id"), id);
  EXPECT_EQ(body.at("job").at("status"), "succeeded");
  EXPECT_FALSE(body.at("job").at("options").contains("webhook"));
}

TEST_F(ApiTest, StatusWebhooksWhenAskedFor) {
  WebhookReceiver receiver;
  const auto options = nlohmann::json({{"webhook", receiver.Url()}, {"webhook_events", {"status", "completed"}}});
  const std::string id = SubmitOk(options.dump());
  ASSERT_TRUE(receiver.WaitForEvent("completed", milliseconds(5000)));
  ASSERT_TRUE(svc().webhooks().Drain(milliseconds(2000)));
  std::vector<std::string> statuses;
  for (const auto& hit : receiver.hits()) {
    EXPECT_NE(hit.event, "progress") << "progress was not asked for";
    EXPECT_TRUE(VerifyWebhookSignature(kWebhookSecret, hit.signature, hit.body, NowSeconds(), 300));
    const auto body = nlohmann::json::parse(hit.body);
    EXPECT_EQ(body.at("event"), hit.event);
    EXPECT_EQ(body.at("job").at("id"), id);
    if (hit.event == "status") statuses.push_back(body.at("job").at("status"));
  }
  EXPECT_NE(std::find(statuses.begin(), statuses.end(), "running"), statuses.end());
  EXPECT_NE(std::find(statuses.begin(), statuses.end(), "succeeded"), statuses.end());
}

TEST_F(ApiTest, CanceledJobSendsCompletedWebhook) {
  WebhookReceiver receiver;
  svc().runner().Block();
  const std::string running = SubmitOk();
  ASSERT_TRUE(svc().runner().WaitStarted(running, milliseconds(5000)));
  const std::string queued = SubmitOk(nlohmann::json({{"webhook", receiver.Url()}}).dump());
  ASSERT_EQ(Code(Post(svc().key_a(), "/v1/jobs/" + queued + "/cancel")), 202);
  ASSERT_TRUE(receiver.WaitForEvent("completed", milliseconds(5000)));
  const auto body = nlohmann::json::parse(receiver.hits().at(0).body);
  EXPECT_EQ(body.at("job").at("id"), queued);
  EXPECT_EQ(body.at("job").at("status"), "canceled");
}

}  // namespace
}  // namespace facefleet::http::apitest
