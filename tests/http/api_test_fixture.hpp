// In-process fixture for the HTTP API contract suite: the wiring of `facefleet serve` (apps/facefleet/
// cmd_serve.cpp) with real backends (SQLite queue, file storage, key store, webhook sender, metrics) in a
// TempDir, an ApiServer on 127.0.0.1:<any port> and a WorkerPool whose JobRunner is a fake the test controls.
// Clients are cpp-httplib; uploads are the real sample photos.
#pragma once

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "http/api_server.hpp"
#include "http/auth.hpp"
#include "http/webhook.hpp"
#include "jobs/job_queue.hpp"
#include "jobs/worker_pool.hpp"
#include "metrics/metrics.hpp"
#include "storage/storage.hpp"
#include "support/temp_dir.hpp"

namespace facefleet::http::apitest {

using std::chrono::milliseconds;

inline constexpr char kWebhookSecret[] = "whsec-api-test-31c9";

// What the fake runner does with the next jobs it runs (read when a job starts, except `block`, which a
// running job re-reads so Unblock() releases it).
struct FakeBehavior {
  milliseconds delay{20};   // spread over `frames` progress reports
  std::int64_t frames = 3;  // progress reported as (1..frames, frames)
  std::string output = "fake-result:0123456789";
  Status failure;      // returned instead of writing the output when not ok
  bool block = false;  // after the progress, wait until Unblock() or the stop token
};

// A JobRunner controlled by the test: writes `output` to ctx.output_path, reports progress, and returns
// kCanceled promptly when ctx.stop fires.
class FakeRunner final : public jobs::JobRunner {
 public:
  Status Run(const jobs::JobContext& ctx) override;
  Status Ready() override { return Status::Ok(); }

  void Set(FakeBehavior behavior);
  FakeBehavior behavior() const;
  void Block() {
    Update([](FakeBehavior& b) { b.block = true; });
  }
  void Unblock() {
    Update([](FakeBehavior& b) { b.block = false; });
  }
  // Waits until job `id` has started (or stopped, for WaitStopped); false on timeout.
  bool WaitStarted(const std::string& id, milliseconds timeout);
  bool WaitStopped(const std::string& id, milliseconds timeout);

 private:
  void Update(const std::function<void(FakeBehavior&)>& change);

  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  FakeBehavior behavior_;
  std::set<std::string> started_;
  std::set<std::string> stopped_;  // saw ctx.stop and returned kCanceled
};

// A loopback webhook receiver (cpp-httplib) that records every POST.
class WebhookReceiver {
 public:
  struct Hit {
    std::string event;      // X-Facefleet-Event
    std::string signature;  // X-Facefleet-Signature
    std::string body;
  };
  WebhookReceiver();
  ~WebhookReceiver();
  WebhookReceiver(const WebhookReceiver&) = delete;
  WebhookReceiver& operator=(const WebhookReceiver&) = delete;

  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }
  std::vector<Hit> hits() const;
  // Waits until a hit with this event arrived; false on timeout.
  bool WaitForEvent(const std::string& event, milliseconds timeout);

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Hit> hits_;
};

// The server settings every test starts from: loopback, any port, small thread pool, private webhooks allowed.
ServerConfig TestServerConfig();

struct ServiceOptions {
  ServerConfig server = TestServerConfig();
  int workers = 1;
  bool allow_private_webhooks = true;  // both the server's URL check and the sender
  RateLimiter* limiter = nullptr;      // null = the server's own limiter from server.rate_limit; must outlive it
};

// Everything `facefleet serve` wires, in one object, started on construction (throws when it cannot start).
class Service {
 public:
  Service(const std::string& dir, ServiceOptions options);
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  int port() const { return server_->port(); }
  const std::string& key_a() const { return key_a_; }
  const std::string& key_b() const { return key_b_; }
  const std::string& key_a_id() const { return key_a_id_; }
  KeyStore& keys() { return *keys_; }
  jobs::JobQueue& queue() { return *queue_; }
  storage::Storage& storage() { return *storage_; }
  FakeRunner& runner() { return runner_; }
  ApiServer& server() { return *server_; }
  WebhookSender& webhooks() { return *webhooks_; }

 private:
  std::unique_ptr<jobs::JobQueue> queue_;
  std::unique_ptr<storage::Storage> storage_;
  std::unique_ptr<KeyStore> keys_;
  std::unique_ptr<WebhookSender> webhooks_;
  metrics::Registry registry_;
  ChangeNotifier notifier_;
  FakeRunner runner_;
  std::unique_ptr<ApiServer> server_;
  std::unique_ptr<jobs::WorkerPool> pool_;
  std::string key_a_, key_b_, key_a_id_;
};

// One multipart part (cpp-httplib's item: name, content, filename, content_type).
using Part = httplib::MultipartFormData;

class ApiTest : public ::testing::Test {
 protected:
  void TearDown() override;

  // The default service (started on first use), or one started with `options` (replacing any).
  Service& svc();
  Service& Start(ServiceOptions options);

  static const std::string& Grace();                                     // grace_hopper.jpg bytes (source)
  static const std::string& Astronaut();                                 // astronaut.png bytes (target)
  static std::vector<Part> Parts(const std::string& options_json = "");  // source + target (+ options)

  httplib::Client Client();  // to the service (started if needed)
  static httplib::Headers Auth(const std::string& key, httplib::Headers extra = {});
  httplib::Result Submit(const std::string& key, const std::vector<Part>& parts, httplib::Headers extra = {});
  // Submits Parts(options) with key A (or `key`) and returns the new id; throws unless 202.
  std::string SubmitOk(const std::string& options_json = "", const std::string& key = "");
  httplib::Result Get(const std::string& key, const std::string& path, httplib::Headers extra = {});
  httplib::Result Post(const std::string& key, const std::string& path);
  httplib::Result Delete(const std::string& key, const std::string& path);

  // Polls GET /v1/jobs/{id} with key A until `status`; returns the job JSON; throws on timeout.
  nlohmann::json WaitForStatus(const std::string& id, const std::string& status,
                               milliseconds timeout = milliseconds(5000));

  static nlohmann::json Json(const httplib::Result& res);
  // The HTTP status, or -1 when no response came back.
  static int Code(const httplib::Result& res) { return res ? res->status : -1; }
  // Asserts the HTTP status, the JSON error code and that the message contains `message_part`.
  static void ExpectError(const httplib::Result& res, int http_status, const std::string& code,
                          const std::string& message_part = "");

  facefleet::testing::TempDir dir_;

 private:
  std::unique_ptr<Service> service_;
  int services_started_ = 0;
};

}  // namespace facefleet::http::apitest
