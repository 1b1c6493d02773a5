#include "api_test_fixture.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <utility>

#ifndef FACEFLEET_SAMPLE_GRACE
#define FACEFLEET_SAMPLE_GRACE "/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg"
#endif
#ifndef FACEFLEET_SAMPLE_ASTRONAUT
#define FACEFLEET_SAMPLE_ASTRONAUT "/usr/lib/python3/dist-packages/skimage/data/astronaut.png"
#endif

namespace facefleet::http::apitest {
namespace {

using Clock = std::chrono::steady_clock;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read sample " + path);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

template <typename T>
T Take(Result<T> result, const std::string& what) {
  if (!result.ok()) throw std::runtime_error(what + ": " + result.status().ToString());
  return std::move(*result);
}

// The submission check the real server gets from apps/ (tested there): options must be a JSON object of known
// engine options; every image job produces a PNG.
Result<JobSpec> TestValidator(const std::string& options_json, const std::vector<std::string>& /*sources*/,
                              const std::string& /*target*/) {
  const auto options = nlohmann::json::parse(options_json, nullptr, false);
  if (options.is_discarded() || !options.is_object()) return Status(ErrorCode::kUsage, "options: expected an object");
  static const std::set<std::string, std::less<>> kKnown = {"blend", "face_index"};
  for (const auto& item : options.items()) {
    if (!kKnown.contains(item.key())) return Status(ErrorCode::kUsage, "options." + item.key() + ": unknown option");
  }
  return JobSpec{".png", false};
}

}  // namespace

// ---- FakeRunner ------------------------------------------------------------------------------------------------

Status FakeRunner::Run(const jobs::JobContext& ctx) {
  const std::string id = ctx.job->id;
  std::unique_lock lock(mu_);
  const FakeBehavior b = behavior_;
  started_.insert(id);
  cv_.notify_all();
  const auto stopped = [&] {
    stopped_.insert(id);
    cv_.notify_all();
    return Status(ErrorCode::kCanceled, "fake runner: stop requested");
  };
  const auto step = b.frames > 0 ? b.delay / b.frames : b.delay;
  for (std::int64_t frame = 1; frame <= std::max<std::int64_t>(b.frames, 1); ++frame) {
    cv_.wait_for(lock, ctx.stop, step, [] { return false; });
    if (ctx.stop.stop_requested()) return stopped();
    if (b.frames > 0) ctx.progress(frame, b.frames);
  }
  if (b.block) {
    cv_.wait(lock, ctx.stop, [this] { return !behavior_.block; });
    if (ctx.stop.stop_requested()) return stopped();
  }
  if (!b.failure.ok()) return b.failure;
  std::ofstream out(ctx.output_path, std::ios::binary | std::ios::trunc);
  out << b.output;
  out.close();
  return out ? Status::Ok() : Status(ErrorCode::kOutputFailed, ctx.output_path + ": cannot write");
}

void FakeRunner::Set(FakeBehavior behavior) {
  Update([&](FakeBehavior& b) { b = std::move(behavior); });
}

FakeBehavior FakeRunner::behavior() const {
  std::lock_guard lock(mu_);
  return behavior_;
}

void FakeRunner::Update(const std::function<void(FakeBehavior&)>& change) {
  {
    std::lock_guard lock(mu_);
    change(behavior_);
  }
  cv_.notify_all();
}

bool FakeRunner::WaitStarted(const std::string& id, milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return started_.contains(id); });
}

bool FakeRunner::WaitStopped(const std::string& id, milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return stopped_.contains(id); });
}

// ---- WebhookReceiver -------------------------------------------------------------------------------------------

WebhookReceiver::WebhookReceiver() {
  server_.Post(".*", [this](const httplib::Request& req, httplib::Response& res) {
    {
      std::lock_guard lock(mu_);
      hits_.push_back(
          {req.get_header_value("X-Facefleet-Event"), req.get_header_value("X-Facefleet-Signature"), req.body});
    }
    cv_.notify_all();
    res.status = 200;
  });
  port_ = server_.bind_to_any_port("127.0.0.1");
  if (port_ <= 0) throw std::runtime_error("cannot bind a loopback port for the webhook receiver");
  thread_ = std::thread([this] { server_.listen_after_bind(); });
  // stop() is a no-op until the accept loop runs: wait for it so the destructor cannot hang.
  for (int i = 0; i < 5000 && !server_.is_running(); ++i) std::this_thread::sleep_for(milliseconds(1));
}

WebhookReceiver::~WebhookReceiver() {
  server_.stop();
  thread_.join();
}

std::vector<WebhookReceiver::Hit> WebhookReceiver::hits() const {
  std::lock_guard lock(mu_);
  return hits_;
}

bool WebhookReceiver::WaitForEvent(const std::string& event, milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] {
    return std::any_of(hits_.begin(), hits_.end(), [&](const Hit& hit) { return hit.event == event; });
  });
}

// ---- Service ---------------------------------------------------------------------------------------------------

ServerConfig TestServerConfig() {
  ServerConfig config;
  config.host = "127.0.0.1";
  config.port = 0;
  config.http_threads = 16;
  config.read_timeout = std::chrono::seconds(5);
  config.write_timeout = std::chrono::seconds(5);
  config.rate_limit = 0;  // off unless a test turns it on
  return config;
}

Service::Service(const std::string& dir, ServiceOptions options) {
  std::filesystem::create_directories(dir + "/scratch");
  queue_ = Take(jobs::OpenSqliteQueue({dir + "/jobs.db"}), "queue");
  storage::FileStorageOptions files;
  files.root = dir + "/objects";
  files.sync = false;
  storage_ = Take(storage::OpenFileStorage(files), "storage");
  keys_ = Take(OpenSqliteKeyStore(dir + "/keys.db", "api-test-pepper", milliseconds(0)), "keys");
  const CreatedKey a = Take(keys_->Create("A"), "key A");
  key_a_ = a.key;
  key_a_id_ = a.info.id;
  key_b_ = Take(keys_->Create("B"), "key B").key;

  WebhookOptions hooks;
  hooks.secret = kWebhookSecret;
  hooks.allow_private = options.allow_private_webhooks;
  hooks.max_attempts = 2;
  hooks.initial_backoff = milliseconds(20);
  hooks.max_backoff = milliseconds(100);
  hooks.timeout = milliseconds(2000);
  webhooks_ = std::make_unique<WebhookSender>(hooks);

  ServiceContext ctx;
  ctx.queue = queue_.get();
  ctx.storage = storage_.get();
  ctx.keys = keys_.get();
  ctx.limiter = options.limiter;
  ctx.metrics = &registry_;
  ctx.webhooks = webhooks_.get();
  ctx.notifier = &notifier_;
  ctx.validate = TestValidator;
  ctx.cancel_local = [this](const std::string& id) { return pool_ != nullptr && pool_->Cancel(id); };
  options.server.allow_private_webhooks = options.allow_private_webhooks;
  options.server.scratch_dir = dir + "/scratch";
  server_ = std::make_unique<ApiServer>(options.server, ctx);

  if (options.workers > 0) {
    jobs::WorkerPoolOptions pool;
    pool.workers = options.workers;
    pool.worker_id = "api-test";
    pool.lease = milliseconds(2000);
    pool.heartbeat = milliseconds(100);
    pool.retry_backoff = milliseconds(50);
    pool.lease_wait = milliseconds(100);
    pool.scratch_dir = dir + "/scratch";
    pool_ = std::make_unique<jobs::WorkerPool>(*queue_, *storage_, runner_, pool,
                                               [this](jobs::JobEvent event, const jobs::JobRecord& job) {
                                                 notifier_.Notify();
                                                 for (const auto& name : WebhookEventsFor(event)) {
                                                   server_->EmitWebhook(job, name);
                                                 }
                                               });
  }
  if (Status started = server_->Start(); !started.ok()) throw std::runtime_error(started.ToString());
  // Serving before the workers start (and before any test request).
  httplib::Client probe("127.0.0.1", server_->port());
  for (int i = 0; i < 500 && !probe.Get("/healthz"); ++i) std::this_thread::sleep_for(milliseconds(2));
  if (pool_) pool_->Start();
}

Service::~Service() {
  runner_.Unblock();
  if (pool_) pool_->Drain(milliseconds(0));
  pool_.reset();
  server_->Stop();
}

// ---- ApiTest ---------------------------------------------------------------------------------------------------

void ApiTest::TearDown() { service_.reset(); }

Service& ApiTest::svc() {
  if (!service_) Start({});
  return *service_;
}

Service& ApiTest::Start(ServiceOptions options) {
  service_.reset();
  service_ = std::make_unique<Service>(dir_.File("service-" + std::to_string(services_started_++)), std::move(options));
  return *service_;
}

const std::string& ApiTest::Grace() {
  static const std::string bytes = ReadFile(FACEFLEET_SAMPLE_GRACE);
  return bytes;
}

const std::string& ApiTest::Astronaut() {
  static const std::string bytes = ReadFile(FACEFLEET_SAMPLE_ASTRONAUT);
  return bytes;
}

std::vector<Part> ApiTest::Parts(const std::string& options_json) {
  std::vector<Part> parts = {{"source", Grace(), "grace_hopper.jpg", "image/jpeg"},
                             {"target", Astronaut(), "astronaut.png", "image/png"}};
  if (!options_json.empty()) parts.push_back({"options", options_json, "", "application/json"});
  return parts;
}

httplib::Client ApiTest::Client() {
  httplib::Client client("127.0.0.1", svc().port());
  client.set_connection_timeout(std::chrono::seconds(2));
  client.set_read_timeout(std::chrono::seconds(10));
  client.set_write_timeout(std::chrono::seconds(10));
  return client;
}

httplib::Headers ApiTest::Auth(const std::string& key, httplib::Headers extra) {
  if (!key.empty()) extra.emplace("Authorization", "Bearer " + key);
  return extra;
}

httplib::Result ApiTest::Submit(const std::string& key, const std::vector<Part>& parts, httplib::Headers extra) {
  svc();
  return Client().Post("/v1/jobs", Auth(key, std::move(extra)), parts);
}

std::string ApiTest::SubmitOk(const std::string& options_json, const std::string& key) {
  const auto res = Submit(key.empty() ? svc().key_a() : key, Parts(options_json));
  if (!res || res->status != 202) {
    throw std::runtime_error("submit failed: " +
                             (res ? std::to_string(res->status) + " " + res->body : httplib::to_string(res.error())));
  }
  return Json(res).at("id").get<std::string>();
}

httplib::Result ApiTest::Get(const std::string& key, const std::string& path, httplib::Headers extra) {
  svc();
  return Client().Get(path, Auth(key, std::move(extra)));
}

httplib::Result ApiTest::Post(const std::string& key, const std::string& path) {
  svc();
  return Client().Post(path, Auth(key), "", "application/json");
}

httplib::Result ApiTest::Delete(const std::string& key, const std::string& path) {
  svc();
  return Client().Delete(path, Auth(key));
}

nlohmann::json ApiTest::WaitForStatus(const std::string& id, const std::string& status, milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  std::string last;
  while (true) {
    const auto res = Get(svc().key_a(), "/v1/jobs/" + id);
    if (res && res->status == 200) {
      auto job = Json(res);
      if (job.at("status") == status) return job;
      last = res->body;
    } else {
      last = res ? std::to_string(res->status) + " " + res->body : httplib::to_string(res.error());
    }
    if (Clock::now() > deadline) throw std::runtime_error("job " + id + " never became " + status + "; last: " + last);
    std::this_thread::sleep_for(milliseconds(10));
  }
}

nlohmann::json ApiTest::Json(const httplib::Result& res) {
  if (!res) throw std::runtime_error("no response: " + httplib::to_string(res.error()));
  auto json = nlohmann::json::parse(res->body, nullptr, false);
  if (json.is_discarded()) throw std::runtime_error("not JSON (" + std::to_string(res->status) + "): " + res->body);
  return json;
}

void ApiTest::ExpectError(const httplib::Result& res, int http_status, const std::string& code,
                          const std::string& message_part) {
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, http_status) << res->body;
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  const auto body = nlohmann::json::parse(res->body, nullptr, false);
  ASSERT_TRUE(body.is_object() && body.contains("error")) << res->body;
  EXPECT_EQ(body["error"].value("code", ""), code) << res->body;
  const std::string message = body["error"].value("message", "");
  EXPECT_FALSE(message.empty()) << res->body;
  EXPECT_NE(message.find(message_part), std::string::npos) << "message: " << message;
}

}  // namespace facefleet::http::apitest
