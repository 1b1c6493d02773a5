// HTTP API contract: submission, results, ownership, listing, idempotency, quotas, cancel/delete, SSE, probes
// and metrics — against an in-process `facefleet serve` wiring with a fake job runner (api_test_fixture.hpp).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "api_test_fixture.hpp"

namespace facefleet::http::apitest {
namespace {

using Clock = std::chrono::steady_clock;

std::string JobPath(const std::string& id, const std::string& tail = "") { return "/v1/jobs/" + id + tail; }

// ---- Submit and results ----------------------------------------------------------------------------------------

TEST_F(ApiTest, SubmitAnswers202AndTheJobSucceedsWithItsResult) {
  const auto res = Submit(svc().key_a(), Parts(R"({"blend": 0.5})"));
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  ASSERT_EQ(res->status, 202) << res->body;
  const auto job = Json(res);
  const std::string id = job.at("id");
  EXPECT_EQ(id.size(), 26U);
  EXPECT_EQ(job.at("status"), "queued");
  EXPECT_EQ(job.at("kind"), "image");
  EXPECT_TRUE(job.at("result_url").is_null());
  EXPECT_EQ(job.at("options").at("blend"), 0.5);
  EXPECT_EQ(res->get_header_value("Location"), JobPath(id));

  const auto done = WaitForStatus(id, "succeeded");
  EXPECT_EQ(done.at("result_url"), JobPath(id, "/result"));
  EXPECT_EQ(done.at("progress").at("frames_done"), 3);
  EXPECT_EQ(done.at("progress").at("frames_total"), 3);
  EXPECT_EQ(done.at("attempts"), 1);
  EXPECT_TRUE(done.at("error").is_null());
  EXPECT_TRUE(done.at("finished_at").is_string());

  const auto result = Get(svc().key_a(), done.at("result_url"));
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(result->body, svc().runner().behavior().output);
  EXPECT_EQ(result->get_header_value("Content-Type"), "image/png");
  EXPECT_EQ(result->get_header_value("Accept-Ranges"), "bytes");
  EXPECT_NE(result->get_header_value("Content-Disposition").find(id + ".png"), std::string::npos);
}

TEST_F(ApiTest, ResultHonoursRangeRequests) {
  const std::string id = SubmitOk();
  WaitForStatus(id, "succeeded");
  const std::string output = svc().runner().behavior().output;
  const auto res = Get(svc().key_a(), JobPath(id, "/result"), {{"Range", "bytes=2-5"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 206);
  EXPECT_EQ(res->body, output.substr(2, 4));
  EXPECT_EQ(res->get_header_value("Content-Range"), "bytes 2-5/" + std::to_string(output.size()));
}

TEST_F(ApiTest, ResultBeforeSuccessIsConflict) {
  svc().runner().Block();
  const std::string running = SubmitOk();
  ASSERT_TRUE(svc().runner().WaitStarted(running, milliseconds(5000)));
  const std::string queued = SubmitOk();  // the only worker is busy
  ExpectError(Get(svc().key_a(), JobPath(running, "/result")), 409, "conflict", "is running");
  ExpectError(Get(svc().key_a(), JobPath(queued, "/result")), 409, "conflict", "is queued");
  svc().runner().Unblock();
  WaitForStatus(queued, "succeeded");
  EXPECT_EQ(Code(Get(svc().key_a(), JobPath(running, "/result"))), 200);
}

TEST_F(ApiTest, ExpiredResultIs410) {
  const std::string id = SubmitOk();
  WaitForStatus(id, "succeeded");
  auto record = svc().queue().Get("", id);
  ASSERT_TRUE(record.ok());
  ASSERT_TRUE(svc().storage().Delete(record->result_key).ok());
  ExpectError(Get(svc().key_a(), JobPath(id, "/result")), 410, "not_found", "expired");
  EXPECT_EQ(Json(Get(svc().key_a(), JobPath(id))).at("status"), "succeeded");
}

// ---- Authentication and ownership -----------------------------------------------------------------------------

TEST_F(ApiTest, MissingKeyIs401WithChallenge) {
  const auto list = Get("", "/v1/jobs");
  ExpectError(list, 401, "unauthenticated", "Authorization");
  ASSERT_TRUE(list);
  EXPECT_EQ(list->get_header_value("WWW-Authenticate"), "Bearer");
  ExpectError(Submit("", Parts()), 401, "unauthenticated", "Authorization");
  ExpectError(Get("", "/v1/jobs", {{"Authorization", "Basic dXNlcjpwYXNz"}}), 401, "unauthenticated");
}

TEST_F(ApiTest, UnknownKeyIs401) {
  const std::vector<std::string> keys = {"nope", "ff_aaaaaaaaaaaa_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                                         svc().key_a() + "x"};
  for (const auto& key : keys) {
    const auto res = Get(key, "/v1/jobs");
    ExpectError(res, 401, "unauthenticated");
    ASSERT_TRUE(res);
    EXPECT_NE(res->get_header_value("WWW-Authenticate").find("invalid_token"), std::string::npos);
    EXPECT_EQ(res->body.find(key), std::string::npos) << "the key is echoed: " << res->body;
  }
}

TEST_F(ApiTest, RevokedKeyIs401) {
  ASSERT_EQ(Code(Get(svc().key_a(), "/v1/jobs")), 200);
  ASSERT_TRUE(svc().keys().Revoke(svc().key_a_id()).ok());
  ExpectError(Get(svc().key_a(), "/v1/jobs"), 401, "unauthenticated");
  ExpectError(Submit(svc().key_a(), Parts()), 401, "unauthenticated");
  EXPECT_EQ(Code(Get(svc().key_b(), "/v1/jobs")), 200);
}

TEST_F(ApiTest, AnotherKeysJobIsNotFound) {
  const std::string id = SubmitOk();
  WaitForStatus(id, "succeeded");
  const std::string b = svc().key_b();
  ExpectError(Get(b, JobPath(id)), 404, "not_found");
  ExpectError(Get(b, JobPath(id, "/result")), 404, "not_found");
  ExpectError(Get(b, JobPath(id, "/events")), 404, "not_found");
  ExpectError(Post(b, JobPath(id, "/cancel")), 404, "not_found");
  ExpectError(Delete(b, JobPath(id)), 404, "not_found");
  EXPECT_TRUE(Json(Get(b, "/v1/jobs")).at("jobs").empty());

  const auto mine = Json(Get(svc().key_a(), "/v1/jobs"));  // untouched by B's attempts
  ASSERT_EQ(mine.at("jobs").size(), 1U);
  EXPECT_EQ(mine.at("jobs")[0].at("id"), id);
  EXPECT_EQ(mine.at("jobs")[0].at("status"), "succeeded");
}

// ---- Listing ---------------------------------------------------------------------------------------------------

TEST_F(ApiTest, ListPagesWithCursor) {
  std::set<std::string> submitted;
  for (int i = 0; i < 5; ++i) submitted.insert(SubmitOk());
  for (const auto& id : submitted) WaitForStatus(id, "succeeded");

  std::vector<std::string> seen;
  std::vector<std::size_t> page_sizes;
  std::string cursor;
  for (int page = 0; page < 5; ++page) {
    const std::string query = "/v1/jobs?limit=2" + (cursor.empty() ? "" : "&cursor=" + cursor);
    const auto body = Json(Get(svc().key_a(), query));
    page_sizes.push_back(body.at("jobs").size());
    for (const auto& job : body.at("jobs")) seen.push_back(job.at("id"));
    if (body.at("next_cursor").is_null()) break;
    cursor = body.at("next_cursor");
    ASSERT_FALSE(cursor.empty());
  }
  EXPECT_EQ(page_sizes, (std::vector<std::size_t>{2, 2, 1}));
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()), submitted);
  EXPECT_EQ(seen.size(), submitted.size()) << "a job appeared on two pages";
}

TEST_F(ApiTest, ListFiltersByStatus) {
  svc().runner().Block();
  const std::string running = SubmitOk();
  ASSERT_TRUE(svc().runner().WaitStarted(running, milliseconds(5000)));
  const std::string canceled = SubmitOk();
  ASSERT_EQ(Code(Post(svc().key_a(), JobPath(canceled, "/cancel"))), 202);
  const auto ids = [&](const std::string& query) {
    std::vector<std::string> out;
    const auto body = Json(Get(svc().key_a(), "/v1/jobs" + query));
    for (const auto& job : body.at("jobs")) out.push_back(job.at("id"));
    return out;
  };
  EXPECT_EQ(ids("?status=running"), std::vector<std::string>{running});
  EXPECT_EQ(ids("?status=canceled"), std::vector<std::string>{canceled});
  EXPECT_TRUE(ids("?status=queued").empty());
  EXPECT_TRUE(ids("?status=succeeded").empty());
  EXPECT_EQ(ids("").size(), 2U);
}

TEST_F(ApiTest, ListRejectsBadParameters) {
  for (const char* limit : {"0", "101", "abc", "2x", "-1", ""}) {
    ExpectError(Get(svc().key_a(), std::string("/v1/jobs?limit=") + limit), 400, "invalid_request", "limit");
  }
  ExpectError(Get(svc().key_a(), "/v1/jobs?status=bogus"), 400, "invalid_request", "status");
  EXPECT_EQ(Code(Get(svc().key_a(), "/v1/jobs?limit=100&status=queued")), 200);
}

// ---- Idempotency -----------------------------------------------------------------------------------------------

TEST_F(ApiTest, IdempotentReplayReturnsTheSameJob) {
  const httplib::Headers key = {{"Idempotency-Key", "order-42"}};
  const auto first = Submit(svc().key_a(), Parts(), key);
  ASSERT_EQ(Code(first), 202);
  const std::string id = Json(first).at("id");
  const auto again = Submit(svc().key_a(), Parts(), key);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200) << again->body;
  EXPECT_EQ(again->get_header_value("Idempotent-Replayed"), "true");
  EXPECT_EQ(Json(again).at("id"), id);
  // The replay's own copy of the inputs is dropped: only the first job's files exist.
  auto objects = svc().storage().List("");
  ASSERT_TRUE(objects.ok());
  for (const auto& object : *objects) EXPECT_EQ(object.key.rfind("jobs/" + id + "/", 0), 0U) << object.key;
  EXPECT_EQ(Json(Get(svc().key_a(), "/v1/jobs")).at("jobs").size(), 1U);
}

TEST_F(ApiTest, IdempotencyKeyReusedWithAnotherBodyIsConflict) {
  const httplib::Headers key = {{"Idempotency-Key", "order-43"}};
  ASSERT_EQ(Code(Submit(svc().key_a(), Parts(), key)), 202);
  auto other = Parts();
  other[1].content = Grace();  // another target
  ExpectError(Submit(svc().key_a(), other, key), 409, "conflict");
  ExpectError(Submit(svc().key_a(), Parts(R"({"blend": 1})"), key), 409, "conflict");
}

TEST_F(ApiTest, IdempotencyKeysAreScopedToTheApiKey) {
  const httplib::Headers key = {{"Idempotency-Key", "shared-key"}};
  const auto a = Submit(svc().key_a(), Parts(), key);
  const auto b = Submit(svc().key_b(), Parts(), key);
  ASSERT_EQ(Code(a), 202);
  ASSERT_EQ(Code(b), 202);
  EXPECT_NE(Json(a).at("id"), Json(b).at("id"));
  ExpectError(Submit(svc().key_a(), Parts(), {{"Idempotency-Key", std::string(256, 'k')}}), 400, "invalid_request",
              "Idempotency-Key");
}

// ---- Quotas ----------------------------------------------------------------------------------------------------

TEST_F(ApiTest, RequestRateLimitAnswers429WithRetryAfter) {
  ServiceOptions options;
  options.server.rate_limit = 2;
  options.server.rate_burst = 2;
  Start(options);
  EXPECT_EQ(Code(Get(svc().key_a(), "/v1/jobs")), 200);
  EXPECT_EQ(Code(Get(svc().key_a(), "/v1/jobs")), 200);
  const auto limited = Get(svc().key_a(), "/v1/jobs");
  ExpectError(limited, 429, "rate_limited", "rate limit");
  ASSERT_TRUE(limited);
  EXPECT_GE(std::atoi(limited->get_header_value("Retry-After").c_str()), 1);
  EXPECT_EQ(Code(Get(svc().key_b(), "/v1/jobs")), 200);  // buckets are per key
}

// The server asks the limiter it is given (serve passes the Redis one): its wait becomes Retry-After, and a
// decision taken without a check (Redis unreachable: fail open) lets the request through and is counted.
TEST_F(ApiTest, AGivenLimiterDecidesAndUncheckedRequestsAreCounted) {
  class Scripted final : public RateLimiter {
   public:
    RateDecision Acquire(const std::string& /*key_id*/) override {
      return calls_++ == 0 ? RateDecision{.retry_after = 2.5} : RateDecision{.retry_after = 0, .unchecked = true};
    }

   private:
    std::atomic<int> calls_{0};
  };
  static Scripted limiter;  // outlives the service (destroyed in TearDown)
  ServiceOptions options;
  options.limiter = &limiter;
  Start(options);
  const auto limited = Get(svc().key_a(), "/v1/jobs");
  ExpectError(limited, 429, "rate_limited", "rate limit");
  ASSERT_TRUE(limited);
  EXPECT_EQ(limited->get_header_value("Retry-After"), "3");
  EXPECT_EQ(Code(Get(svc().key_a(), "/v1/jobs")), 200);
  EXPECT_EQ(Code(Get(svc().key_b(), "/v1/jobs")), 200);
  const auto metrics = Get("", "/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("\nfacefleet_rate_limit_unchecked_total 2\n"), std::string::npos) << metrics->body;
}

TEST_F(ApiTest, ActiveJobQuotaAnswers429) {
  ServiceOptions options;
  options.server.max_active_jobs = 1;
  Start(options);
  svc().runner().Block();
  const std::string id = SubmitOk();
  const auto refused = Submit(svc().key_a(), Parts());
  ExpectError(refused, 429, "rate_limited", "limit 1");
  ASSERT_TRUE(refused);
  EXPECT_FALSE(refused->get_header_value("Retry-After").empty());
  EXPECT_EQ(Code(Submit(svc().key_b(), Parts())), 202);  // quotas are per key
  svc().runner().Unblock();
  WaitForStatus(id, "succeeded");
  EXPECT_EQ(Code(Submit(svc().key_a(), Parts())), 202);
}

// ---- Cancel and delete -----------------------------------------------------------------------------------------

TEST_F(ApiTest, CancelQueuedJob) {
  svc().runner().Block();
  const std::string running = SubmitOk();
  ASSERT_TRUE(svc().runner().WaitStarted(running, milliseconds(5000)));
  const std::string queued = SubmitOk();
  const auto res = Post(svc().key_a(), JobPath(queued, "/cancel"));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 202) << res->body;
  EXPECT_EQ(Json(res).at("status"), "canceled");
  svc().runner().Unblock();
  WaitForStatus(running, "succeeded");
  EXPECT_EQ(Json(Get(svc().key_a(), JobPath(queued))).at("status"), "canceled");
  EXPECT_FALSE(svc().runner().WaitStarted(queued, milliseconds(200)));
}

TEST_F(ApiTest, CancelRunningJobStopsItWithinASecond) {
  svc().runner().Block();
  const std::string id = SubmitOk();
  ASSERT_TRUE(svc().runner().WaitStarted(id, milliseconds(5000)));
  const auto started = Clock::now();
  const auto res = Post(svc().key_a(), JobPath(id, "/cancel"));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 202) << res->body;
  EXPECT_EQ(Json(res).at("cancel_requested"), true);
  EXPECT_TRUE(svc().runner().WaitStopped(id, milliseconds(1000)));
  EXPECT_LT(Clock::now() - started, milliseconds(1000));
  const auto job = WaitForStatus(id, "canceled", milliseconds(2000));
  EXPECT_TRUE(job.at("result_url").is_null());
  ExpectError(Get(svc().key_a(), JobPath(id, "/result")), 409, "conflict", "canceled");
}

TEST_F(ApiTest, CancelFinishedJobIsConflict) {
  const std::string id = SubmitOk();
  WaitForStatus(id, "succeeded");
  ExpectError(Post(svc().key_a(), JobPath(id, "/cancel")), 409, "conflict");
  EXPECT_EQ(Json(Get(svc().key_a(), JobPath(id))).at("status"), "succeeded");
}

TEST_F(ApiTest, DeleteRemovesTheJobAndItsFiles) {
  const std::string id = SubmitOk();
  WaitForStatus(id, "succeeded");
  const std::string prefix = "jobs/" + id + "/";
  ASSERT_EQ(svc().storage().List(prefix)->size(), 3U);  // source-0, target, result.png
  const auto res = Delete(svc().key_a(), JobPath(id));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 204) << res->body;
  ExpectError(Get(svc().key_a(), JobPath(id)), 404, "not_found");
  ExpectError(Get(svc().key_a(), JobPath(id, "/result")), 404, "not_found");
  EXPECT_TRUE(svc().storage().List(prefix)->empty());
  EXPECT_TRUE(Json(Get(svc().key_a(), "/v1/jobs")).at("jobs").empty());
  ExpectError(Delete(svc().key_a(), JobPath(id)), 404, "not_found");
}

TEST_F(ApiTest, DeleteRunningJobStopsIt) {
  svc().runner().Block();
  const std::string id = SubmitOk();
  ASSERT_TRUE(svc().runner().WaitStarted(id, milliseconds(5000)));
  ASSERT_EQ(Code(Delete(svc().key_a(), JobPath(id))), 204);
  EXPECT_TRUE(svc().runner().WaitStopped(id, milliseconds(1000)));
  ExpectError(Get(svc().key_a(), JobPath(id)), 404, "not_found");
  const auto deadline = Clock::now() + milliseconds(2000);
  while (!svc().storage().List("jobs/" + id + "/")->empty() && Clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_TRUE(svc().storage().List("jobs/" + id + "/")->empty());
}

// ---- Server-Sent Events ----------------------------------------------------------------------------------------

struct SseEvent {
  std::string event;
  std::string data;
};

std::vector<SseEvent> ParseSse(const std::string& stream) {
  std::vector<SseEvent> events;
  std::size_t at = 0;
  while (at < stream.size()) {
    const auto end = stream.find("\n\n", at);
    const std::string frame = stream.substr(at, end == std::string::npos ? std::string::npos : end - at);
    at = end == std::string::npos ? stream.size() : end + 2;
    SseEvent event;
    std::size_t line_start = 0;
    while (line_start < frame.size()) {
      const auto line_end = std::min(frame.find('\n', line_start), frame.size());
      const std::string line = frame.substr(line_start, line_end - line_start);
      if (line.rfind("event: ", 0) == 0) event.event = line.substr(7);
      if (line.rfind("data: ", 0) == 0) event.data = line.substr(6);
      line_start = line_end + 1;
    }
    if (!event.event.empty()) events.push_back(std::move(event));
  }
  return events;
}

TEST_F(ApiTest, EventsStreamStatusProgressAndCompleted) {
  FakeBehavior slow;
  slow.delay = milliseconds(400);  // several heartbeats (100 ms) while frames advance
  slow.frames = 4;
  svc().runner().Set(slow);
  const std::string id = SubmitOk();
  std::string stream;
  const auto started = Clock::now();
  const auto res = Client().Get(JobPath(id, "/events"), Auth(svc().key_a()), [&](const char* data, std::size_t size) {
    stream.append(data, size);
    return true;
  });
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/event-stream");
  EXPECT_LT(Clock::now() - started, std::chrono::seconds(5)) << "the stream did not end after completion";

  const auto events = ParseSse(stream);
  ASSERT_GE(events.size(), 3U) << stream;
  EXPECT_EQ(events.front().event, "status");
  EXPECT_EQ(events.back().event, "completed") << stream;
  int progress = 0;
  for (std::size_t i = 0; i + 1 < events.size(); ++i) {
    EXPECT_NE(events[i].event, "completed") << "completed is the last event";
    if (events[i].event != "progress") continue;
    ++progress;
    const auto frames = nlohmann::json::parse(events[i].data);
    EXPECT_EQ(frames.at("frames_total"), 4);
    EXPECT_GE(frames.at("frames_done"), 1);
  }
  EXPECT_GE(progress, 1) << stream;
  const auto final_job = nlohmann::json::parse(events.back().data);
  EXPECT_EQ(final_job.at("id"), id);
  EXPECT_EQ(final_job.at("status"), "succeeded");
  EXPECT_EQ(final_job.at("result_url"), JobPath(id, "/result"));
}

TEST_F(ApiTest, EventsOfAFinishedJobEndAtOnce) {
  const std::string id = SubmitOk();
  WaitForStatus(id, "succeeded");
  std::string stream;
  const auto res = Client().Get(JobPath(id, "/events"), Auth(svc().key_a()), [&](const char* data, std::size_t size) {
    stream.append(data, size);
    return true;
  });
  ASSERT_TRUE(res);
  const auto events = ParseSse(stream);
  ASSERT_FALSE(events.empty()) << stream;
  EXPECT_EQ(events.front().event, "status");
  EXPECT_EQ(events.back().event, "completed");
}

// ---- Probes, metrics, documents --------------------------------------------------------------------------------

TEST_F(ApiTest, HealthzAndReadyz) {
  const auto health = Get("", "/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(Json(health).at("status"), "ok");
  const auto ready = Get("", "/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200) << ready->body;
  const auto body = Json(ready);
  EXPECT_EQ(body.at("status"), "ready");
  for (const char* check : {"queue", "storage", "models", "draining"}) EXPECT_EQ(body.at("checks").at(check), "ok");
}

TEST_F(ApiTest, MetricsCountRequestsAndSubmissions) {
  SubmitOk();
  const auto has_line = [](const std::string& text, const std::vector<std::string>& parts) {
    std::size_t start = 0;
    while (start < text.size()) {
      const auto end = std::min(text.find('\n', start), text.size());
      const std::string line = text.substr(start, end - start);
      bool all = true;
      for (const auto& part : parts) all = all && line.find(part) != std::string::npos;
      if (all) return true;
      start = end + 1;
    }
    return false;
  };
  const std::vector<std::string> request_line = {"facefleet_http_requests_total{", "route=\"POST /v1/jobs\"",
                                                 "code=\"202\"", "} 1"};
  std::string text;
  for (int i = 0; i < 100; ++i) {  // the request counter is updated after the response is written
    const auto res = Get("", "/metrics");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->get_header_value("Content-Type").rfind("text/plain", 0), 0U);
    text = res->body;
    if (has_line(text, request_line)) break;
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_TRUE(has_line(text, request_line)) << text;
  EXPECT_TRUE(has_line(text, {"facefleet_jobs_submitted_total{kind=\"image\"} 1"})) << text;
  EXPECT_TRUE(has_line(text, {"facefleet_http_request_duration_seconds_bucket{", "POST /v1/jobs"})) << text;
}

TEST_F(ApiTest, OpenApiDocumentAndWebPage) {
  const auto doc = Get("", "/v1/openapi.json");
  ASSERT_TRUE(doc);
  EXPECT_EQ(doc->status, 200);
  EXPECT_EQ(doc->get_header_value("Content-Type"), "application/json");
  const auto json = Json(doc);
  EXPECT_TRUE(json.contains("openapi"));
  EXPECT_TRUE(json.at("paths").contains("/v1/jobs"));
  const auto page = Get("", "/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->get_header_value("Content-Type").rfind("text/html", 0), 0U);
  EXPECT_NE(page->body.find("<html"), std::string::npos);
}

TEST_F(ApiTest, DrainRefusesSubmissionsButServesReads) {
  const std::string id = SubmitOk();
  WaitForStatus(id, "succeeded");
  svc().server().BeginDrain();
  ExpectError(Submit(svc().key_a(), Parts()), 503, "unavailable", "shutting down");
  const auto ready = Get("", "/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 503);
  EXPECT_EQ(Json(ready).at("status"), "not_ready");
  EXPECT_NE(Json(ready).at("checks").at("draining"), "ok");
  EXPECT_EQ(Code(Get(svc().key_a(), JobPath(id))), 200);
  EXPECT_EQ(Code(Get(svc().key_a(), JobPath(id, "/result"))), 200);
  EXPECT_EQ(Code(Get(svc().key_a(), "/v1/jobs")), 200);
  EXPECT_EQ(Code(Get("", "/healthz")), 200);
}

}  // namespace
}  // namespace facefleet::http::apitest
