// Webhook delivery: URL validation (SSRF refusals), signatures, and WebhookSender against loopback receivers
// (cpp-httplib on 127.0.0.1). Back-offs are tens of milliseconds so the suite stays fast.
#include "http/webhook.hpp"

#include <httplib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/socket.h>

#include "core/log.hpp"

namespace facefleet::http {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr char kSecret[] = "whsec-test-5f2d8a";

// ---- Helpers -------------------------------------------------------------------------------------------------

// A loopback HTTP receiver: POST /hook (and any other path) is recorded and answered by `respond`, which gets
// the 0-based number of the request.
class Receiver {
 public:
  struct Hit {
    std::string path;
    std::string body;
    std::string event;
    std::string delivery;
    std::string signature;
    std::string content_type;
    std::string user_agent;
    Clock::time_point at;
  };
  using Respond = std::function<void(int index, httplib::Response& response)>;

  explicit Receiver(Respond respond = nullptr) : respond_(std::move(respond)) {
    server_.Post(".*", [this](const httplib::Request& request, httplib::Response& response) {
      int index = 0;
      {
        const std::lock_guard lock(mutex_);
        index = static_cast<int>(hits_.size());
        hits_.push_back({request.path, request.body, request.get_header_value("X-Facefleet-Event"),
                         request.get_header_value("X-Facefleet-Delivery"),
                         request.get_header_value("X-Facefleet-Signature"), request.get_header_value("Content-Type"),
                         request.get_header_value("User-Agent"), Clock::now()});
      }
      changed_.notify_all();
      response.status = 200;
      if (respond_) respond_(index, response);
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    if (port_ <= 0) throw std::runtime_error("cannot bind a loopback port");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // stop() is a no-op until the accept loop runs, so wait for it before anyone may call the destructor.
    for (int i = 0; i < 5000 && !server_.is_running(); ++i) std::this_thread::sleep_for(milliseconds(1));
  }
  ~Receiver() {
    server_.stop();
    thread_.join();
  }
  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;

  int port() const { return port_; }
  std::string Url(const std::string& path = "/hook") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::vector<Hit> hits() const {
    const std::lock_guard lock(mutex_);
    return hits_;
  }
  std::size_t count() const { return hits().size(); }
  bool WaitFor(std::size_t n, milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return hits_.size() >= n; });
  }

 private:
  Respond respond_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Hit> hits_;
};

// Captures warning lines for the lifetime of the object.
class LogCapture {
 public:
  LogCapture() {
    core::SetLogSink([this](core::LogLevel /*level*/, std::string_view line) {
      const std::lock_guard lock(mutex_);
      lines_.emplace_back(line);
    });
  }
  ~LogCapture() { core::SetLogSink(nullptr); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;
  std::string Text() const {
    const std::lock_guard lock(mutex_);
    std::string all;
    for (const auto& line : lines_) all += line + "\n";
    return all;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
};

// A loopback port that refuses connections: bound (so nobody else takes it) but never listening.
class ClosedPort {
 public:
  ClosedPort() : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof(address);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&address), size) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
      throw std::runtime_error("cannot bind a loopback port");
    }
    port_ = ntohs(address.sin_port);
  }
  ~ClosedPort() { ::close(fd_); }
  ClosedPort(const ClosedPort&) = delete;
  ClosedPort& operator=(const ClosedPort&) = delete;
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }

 private:
  int fd_;
  int port_ = 0;
};

WebhookOptions FastOptions() {
  WebhookOptions options;
  options.secret = kSecret;
  options.allow_private = true;  // receivers live on loopback
  options.max_attempts = 3;
  options.initial_backoff = milliseconds(10);
  options.max_backoff = milliseconds(40);
  options.timeout = milliseconds(2000);
  options.user_agent = "facefleet-test/1";
  return options;
}

WebhookDelivery Delivery(const std::string& url, const std::string& body = R"({"id":"job1","status":"running"})") {
  return {url, "status", body, "job1"};
}

std::int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string Hex(const unsigned char* data, std::size_t size) {
  std::string out;
  char byte[3];
  for (std::size_t i = 0; i < size; ++i) {
    std::snprintf(byte, sizeof(byte), "%02x", data[i]);
    out += byte;
  }
  return out;
}

// HMAC-SHA256 through OpenSSL's one-shot HMAC(), independent of the code under test (which uses EVP_Q_mac).
std::string ReferenceHmac(const std::string& key, const std::string& message) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(message.data()),
       message.size(), mac, &size);
  return Hex(mac, size);
}

// ---- Address classification and URL validation -----------------------------------------------------------

TEST(WebhookAddressTest, ClassifiesPublicAndSpecialRanges) {
  for (const char* address : {"93.184.216.34", "8.8.8.8", "1.1.1.1", "172.32.0.1", "172.15.255.255", "100.63.255.255",
                              "100.128.0.1", "169.253.0.1", "2606:4700::1111", "2a00:1450:4001::1",
                              "::ffff:93.184.216.34", "64:ff9b::5db8:d822", "2002:5db8:d822::1"}) {
    EXPECT_TRUE(IsPublicAddress(address)) << address;
  }
  for (const char* address : {"127.0.0.1",
                              "127.255.255.254",
                              "10.1.2.3",
                              "172.16.0.1",
                              "172.31.255.255",
                              "192.168.1.1",
                              "169.254.169.254",
                              "100.64.0.1",
                              "100.127.255.255",
                              "0.0.0.0",
                              "0.1.2.3",
                              "224.0.0.1",
                              "239.255.255.250",
                              "255.255.255.255",
                              "240.0.0.1",
                              "192.0.2.1",
                              "198.51.100.7",
                              "203.0.113.9",
                              "198.18.0.1",
                              "192.0.0.8",
                              "::",
                              "::1",
                              "fe80::1",
                              "fc00::1",
                              "fd12:3456::1",
                              "ff02::1",
                              "fec0::1",
                              "100::1",
                              "::ffff:127.0.0.1",
                              "::ffff:10.0.0.1",
                              "::ffff:169.254.169.254",
                              "::7f00:1",
                              "64:ff9b::7f00:1",
                              "64:ff9b:1::1",
                              "2002:7f00:1::1",
                              "2002:a00:1::1",
                              "2001::1",
                              "2001:db8::1",
                              "3fff::1",
                              "not-an-ip",
                              "",
                              "[::1]",
                              "127.1"}) {
    EXPECT_FALSE(IsPublicAddress(address)) << address;
  }
}

struct UrlCase {
  const char* url;
  bool ok;
  const char* reason;  // substring of the message when refused
};

TEST(WebhookUrlTest, AcceptsPublicAndRefusesEverythingElse) {
  const UrlCase cases[] = {
      {"https://93.184.216.34/hook", true, ""},
      {"http://93.184.216.34:8080/hooks/facefleet?token=abc", true, ""},
      {"HTTPS://93.184.216.34/hook", true, ""},
      {"https://[2606:4700::1111]/hook", true, ""},
      {"ftp://93.184.216.34/hook", false, "scheme 'ftp'"},
      {"file:///etc/passwd", false, "scheme 'file'"},
      {"gopher://93.184.216.34/", false, "scheme"},
      {"93.184.216.34/hook", false, "scheme"},
      {"", false, "empty"},
      {"http://", false, "no host"},
      {"http:///hook", false, "no host"},
      {"http:/93.184.216.34/hook", false, "no host"},
      {"http://:80/hook", false, "no host"},
      {"http://user:pw@93.184.216.34/hook", false, "credentials"},
      {"http://user@93.184.216.34/hook", false, "credentials"},
      {"http://93.184.216.34:0/hook", false, "port"},
      {"http://93.184.216.34:70000/hook", false, "invalid URL"},
      {"http://93.184.216.34/a b", false, "spaces"},
      {"http://127.0.0.1/hook", false, "non-public address 127.0.0.1"},
      {"http://localhost:8080/hook", false, "non-public"},
      {"http://[::1]/hook", false, "non-public"},
      {"http://10.0.0.5/hook", false, "non-public"},
      {"http://172.16.3.4/hook", false, "non-public"},
      {"http://192.168.0.10/hook", false, "non-public"},
      {"http://169.254.169.254/latest/meta-data/", false, "non-public"},
      {"http://100.64.1.1/hook", false, "non-public"},
      {"http://0.0.0.0/hook", false, "non-public"},
      {"http://[fe80::1]/hook", false, "non-public"},
      {"http://[fe80::1%25eth0]/hook", false, "scoped"},
      {"http://[fc00::1]/hook", false, "non-public"},
      {"http://[::ffff:127.0.0.1]/hook", false, "non-public"},
      {"http://[::]/hook", false, "non-public"},
      {"http://224.0.0.1/hook", false, "non-public"},
      {"http://2130706433/hook", false, "non-public address 127.0.0.1"},
      {"http://0177.0.0.1/hook", false, "non-public address 127.0.0.1"},
      {"http://0x7f.1/hook", false, "non-public address 127.0.0.1"},
      {"http://no-such-host.invalid/hook", false, "cannot resolve"},
      {"http://b\xC3\xBC"
       "cher.example/hook",
       false, "ASCII"},
  };
  for (const UrlCase& c : cases) {
    const Status status = ValidateWebhookUrl(c.url, false);
    EXPECT_EQ(status.ok(), c.ok) << c.url << ": " << status.message();
    if (c.ok) continue;
    EXPECT_EQ(status.code(), ErrorCode::kUsage) << c.url;
    EXPECT_TRUE(status.message().starts_with("webhook: ")) << status.message();
    EXPECT_NE(status.message().find(c.reason), std::string::npos) << c.url << ": " << status.message();
  }
}

TEST(WebhookUrlTest, AllowPrivateAcceptsInternalButStillChecksTheRest) {
  EXPECT_TRUE(ValidateWebhookUrl("http://127.0.0.1:9000/hook", true).ok());
  EXPECT_TRUE(ValidateWebhookUrl("http://localhost/hook", true).ok());
  EXPECT_TRUE(ValidateWebhookUrl("http://[::1]:8080/", true).ok());
  EXPECT_TRUE(ValidateWebhookUrl("http://10.0.0.5/hook", true).ok());
  EXPECT_EQ(ValidateWebhookUrl("file:///etc/passwd", true).code(), ErrorCode::kUsage);
  EXPECT_EQ(ValidateWebhookUrl("http://user:pw@127.0.0.1/", true).code(), ErrorCode::kUsage);
  EXPECT_EQ(ValidateWebhookUrl("http:///hook", true).code(), ErrorCode::kUsage);
}

// ---- Signatures ----------------------------------------------------------------------------------------------

TEST(WebhookSignatureTest, ReferenceHmacMatchesRfc4231) {
  // RFC 4231 test case 2: anchors the reference implementation used below.
  EXPECT_EQ(ReferenceHmac("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(WebhookSignatureTest, KnownAnswer) {
  const std::string body = R"({"id":"job1","status":"succeeded"})";
  const std::int64_t t = 1700000000;
  EXPECT_EQ(SignWebhook(kSecret, t, body), "t=1700000000,v1=" + ReferenceHmac(kSecret, "1700000000." + body));
  EXPECT_EQ(SignWebhook("", 5, ""), "t=5,v1=" + ReferenceHmac("", "5."));
}

TEST(WebhookSignatureTest, VerifyAcceptsGenuineAndRejectsForgeries) {
  const std::string body = R"({"id":"job1","status":"succeeded"})";
  const std::int64_t t = 1700000000;
  const std::string header = SignWebhook(kSecret, t, body);
  const std::string mac = header.substr(header.find("v1=") + 3);
  EXPECT_TRUE(VerifyWebhookSignature(kSecret, header, body, t, 300));
  EXPECT_TRUE(VerifyWebhookSignature(kSecret, header, body, t + 300, 300));
  EXPECT_TRUE(VerifyWebhookSignature(kSecret, "t=1700000000, v0=abc, v1=" + std::string(64, '0') + ",v1=" + mac, body,
                                     t, 300));  // rotation: any v1 may match; unknown keys ignored

  EXPECT_FALSE(VerifyWebhookSignature(kSecret, header, body + " ", t, 300));              // tampered body
  EXPECT_FALSE(VerifyWebhookSignature("other-secret", header, body, t, 300));             // wrong secret
  EXPECT_FALSE(VerifyWebhookSignature(kSecret, header, body, t + 301, 300));              // too old: replay
  EXPECT_FALSE(VerifyWebhookSignature(kSecret, header, body, t - 301, 300));              // from the future
  EXPECT_FALSE(VerifyWebhookSignature(kSecret, "t=1700000001,v1=" + mac, body, t, 300));  // timestamp changed
  const std::vector<std::string> malformed = {"",
                                              "garbage",
                                              "v1=" + mac,
                                              "t=1700000000",
                                              "t=abc,v1=" + mac,
                                              "t=-5,v1=" + mac,
                                              "t=1700000000,t=1700000000,v1=" + mac,
                                              "t=1700000000,v1=" + mac.substr(1),
                                              "t=1700000000,v1=",
                                              "t=1700000000;v1=" + mac,
                                              "t=99999999999999999999,v1=" + mac};
  for (const std::string& bad : malformed) {
    EXPECT_FALSE(VerifyWebhookSignature(kSecret, bad, body, t, 300)) << bad;
  }
}

// ---- WebhookSender end to end --------------------------------------------------------------------------------

TEST(WebhookSenderTest, DeliversSignedRequestWithHeaders) {
  Receiver receiver;
  WebhookSender sender(FastOptions());
  const std::string body = R"({"id":"job1","status":"running","progress":0.5})";
  sender.Enqueue({receiver.Url(), "progress", body, "job1"});
  ASSERT_TRUE(sender.Drain(milliseconds(5000)));
  const auto hits = receiver.hits();
  ASSERT_EQ(hits.size(), 1U);
  const auto& hit = hits[0];
  EXPECT_EQ(hit.path, "/hook");
  EXPECT_EQ(hit.body, body);
  EXPECT_EQ(hit.event, "progress");
  EXPECT_EQ(hit.content_type, "application/json");
  EXPECT_EQ(hit.user_agent, "facefleet-test/1");
  EXPECT_EQ(hit.delivery.size(), 32U);
  EXPECT_TRUE(VerifyWebhookSignature(kSecret, hit.signature, hit.body, NowSeconds(), 300)) << hit.signature;
  EXPECT_FALSE(VerifyWebhookSignature("wrong", hit.signature, hit.body, NowSeconds(), 300));
  const auto stats = sender.stats();
  EXPECT_EQ(stats.delivered, 1U);
  EXPECT_EQ(stats.failed + stats.retried + stats.dropped, 0U);
}

TEST(WebhookSenderTest, DeliversLargeBodyToHostnamePinnedAddress) {
  // "localhost" goes through resolution and CURLOPT_RESOLVE pinning (literals skip both).
  Receiver receiver;
  WebhookSender sender(FastOptions());
  const std::string body = R"({"pad":")" + std::string(100000, 'x') + R"("})";
  sender.Enqueue({"http://localhost:" + std::to_string(receiver.port()) + "/hook", "completed", body, "job2"});
  ASSERT_TRUE(sender.Drain(milliseconds(5000)));
  ASSERT_EQ(receiver.count(), 1U);
  EXPECT_EQ(receiver.hits()[0].body, body);
  EXPECT_EQ(sender.stats().delivered, 1U);
}

TEST(WebhookSenderTest, RetriesServerErrorsWithTheSameDeliveryId) {
  Receiver receiver([](int index, httplib::Response& response) { response.status = index < 2 ? 500 : 200; });
  WebhookSender sender(FastOptions());
  sender.Enqueue(Delivery(receiver.Url()));
  ASSERT_TRUE(sender.Drain(milliseconds(5000)));
  const auto hits = receiver.hits();
  ASSERT_EQ(hits.size(), 3U);
  EXPECT_EQ(hits[0].delivery, hits[1].delivery);
  EXPECT_EQ(hits[1].delivery, hits[2].delivery);
  for (const auto& hit : hits) EXPECT_TRUE(VerifyWebhookSignature(kSecret, hit.signature, hit.body, NowSeconds(), 300));
  const auto stats = sender.stats();
  EXPECT_EQ(stats.delivered, 1U);
  EXPECT_EQ(stats.retried, 2U);
  EXPECT_EQ(stats.failed, 0U);
}

TEST(WebhookSenderTest, ClientErrorIsFinalAndLoggedWithoutTheSecret) {
  LogCapture log;
  Receiver receiver([](int /*index*/, httplib::Response& response) { response.status = 400; });
  WebhookSender sender(FastOptions());
  sender.Enqueue({receiver.Url("/hook?token=receiver-token"), "completed", "{}", "job-400"});
  ASSERT_TRUE(sender.Drain(milliseconds(5000)));
  EXPECT_EQ(receiver.count(), 1U);
  const auto stats = sender.stats();
  EXPECT_EQ(stats.failed, 1U);
  EXPECT_EQ(stats.retried, 0U);
  const std::string text = log.Text();
  EXPECT_NE(text.find("job-400"), std::string::npos) << text;
  EXPECT_NE(text.find("completed"), std::string::npos) << text;
  EXPECT_NE(text.find("127.0.0.1"), std::string::npos) << text;
  EXPECT_NE(text.find("HTTP 400"), std::string::npos) << text;
  EXPECT_EQ(text.find(kSecret), std::string::npos) << text;
  EXPECT_EQ(text.find("receiver-token"), std::string::npos) << text;  // host only, never the query
}

TEST(WebhookSenderTest, RedirectIsNotFollowed) {
  Receiver receiver([](int /*index*/, httplib::Response& response) {
    response.status = 302;
    response.set_header("Location", "/elsewhere");
  });
  WebhookSender sender(FastOptions());
  sender.Enqueue(Delivery(receiver.Url()));
  ASSERT_TRUE(sender.Drain(milliseconds(5000)));
  ASSERT_EQ(receiver.count(), 1U);
  EXPECT_EQ(receiver.hits()[0].path, "/hook");
  EXPECT_EQ(sender.stats().failed, 1U);
}

TEST(WebhookSenderTest, UnreachablePortIsRetriedThenFailed) {
  LogCapture log;
  const ClosedPort closed;
  WebhookSender sender(FastOptions());
  sender.Enqueue(Delivery(closed.Url()));
  ASSERT_TRUE(sender.Drain(milliseconds(5000)));
  const auto stats = sender.stats();
  EXPECT_EQ(stats.failed, 1U);
  EXPECT_EQ(stats.retried, 2U);  // max_attempts = 3
  EXPECT_EQ(stats.delivered, 0U);
  EXPECT_NE(log.Text().find("after 3 attempt(s)"), std::string::npos) << log.Text();
}

TEST(WebhookSenderTest, SlowReceiverTimesOutAndIsRetried) {
  Receiver receiver([](int index, httplib::Response& /*response*/) {
    if (index == 0) std::this_thread::sleep_for(milliseconds(700));
  });
  WebhookOptions options = FastOptions();
  options.timeout = milliseconds(200);
  WebhookSender sender(options);
  sender.Enqueue(Delivery(receiver.Url()));
  ASSERT_TRUE(sender.Drain(milliseconds(5000)));
  const auto stats = sender.stats();
  EXPECT_EQ(stats.retried, 1U);
  EXPECT_EQ(stats.delivered, 1U);
  const auto hits = receiver.hits();
  ASSERT_EQ(hits.size(), 2U);
  EXPECT_EQ(hits[0].delivery, hits[1].delivery);
}

TEST(WebhookSenderTest, RetryAfterIsHonoured) {
  Receiver receiver([](int index, httplib::Response& response) {
    if (index > 0) return;
    response.status = 429;
    response.set_header("Retry-After", "1");
  });
  WebhookOptions options = FastOptions();
  options.max_backoff = milliseconds(5000);
  WebhookSender sender(options);
  sender.Enqueue(Delivery(receiver.Url()));
  ASSERT_TRUE(sender.Drain(milliseconds(5000)));
  const auto hits = receiver.hits();
  ASSERT_EQ(hits.size(), 2U);
  EXPECT_GE(hits[1].at - hits[0].at, milliseconds(900));  // the back-off alone would be ~10 ms
  EXPECT_EQ(sender.stats().delivered, 1U);
}

TEST(WebhookSenderTest, RetryAfterIsCappedAtMaxBackoff) {
  Receiver receiver([](int index, httplib::Response& response) {
    if (index > 0) return;
    response.status = 503;
    response.set_header("Retry-After", "3600");
  });
  WebhookOptions options = FastOptions();
  options.max_backoff = milliseconds(300);
  WebhookSender sender(options);
  sender.Enqueue(Delivery(receiver.Url()));
  ASSERT_TRUE(sender.Drain(milliseconds(5000)));
  const auto hits = receiver.hits();
  ASSERT_EQ(hits.size(), 2U);
  EXPECT_GE(hits[1].at - hits[0].at, milliseconds(250));
  EXPECT_LT(hits[1].at - hits[0].at, milliseconds(3000));
}

TEST(WebhookSenderTest, FailingEndpointDoesNotDelayAHealthyOne) {
  Receiver failing([](int /*index*/, httplib::Response& response) { response.status = 500; });
  Receiver healthy;
  WebhookOptions options = FastOptions();
  options.max_attempts = 4;
  options.initial_backoff = milliseconds(200);  // pauses of at least 100 + 200 + 400 ms after jitter
  options.max_backoff = milliseconds(2000);
  WebhookSender sender(options);
  sender.Enqueue(Delivery(failing.Url()));
  sender.Enqueue(Delivery(healthy.Url()));
  ASSERT_TRUE(healthy.WaitFor(1, milliseconds(5000)));
  EXPECT_LT(failing.count(), 4U);
  ASSERT_TRUE(sender.Drain(milliseconds(10000)));
  ASSERT_EQ(failing.count(), 4U);
  EXPECT_LT(healthy.hits()[0].at, failing.hits().back().at);  // long before the failing one gave up
  const auto stats = sender.stats();
  EXPECT_EQ(stats.delivered, 1U);
  EXPECT_EQ(stats.failed, 1U);
  EXPECT_EQ(stats.retried, 3U);
}

TEST(WebhookSenderTest, LoopbackRefusedWithoutConnectingWhenPrivateNotAllowed) {
  LogCapture log;
  Receiver receiver;
  WebhookOptions options = FastOptions();
  options.allow_private = false;
  WebhookSender sender(options);
  sender.Enqueue(Delivery(receiver.Url()));
  sender.Enqueue(Delivery("http://localhost:" + std::to_string(receiver.port()) + "/hook"));
  ASSERT_TRUE(sender.Drain(milliseconds(5000)));
  EXPECT_EQ(receiver.count(), 0U);
  const auto stats = sender.stats();
  EXPECT_EQ(stats.failed, 2U);
  EXPECT_EQ(stats.retried, 0U);  // a refused address is final
  EXPECT_NE(log.Text().find("non-public address 127.0.0.1"), std::string::npos) << log.Text();
}

TEST(WebhookSenderTest, InvalidUrlFailsWithoutRetry) {
  WebhookSender sender(FastOptions());
  sender.Enqueue(Delivery("ftp://127.0.0.1/hook"));
  ASSERT_TRUE(sender.Drain(milliseconds(5000)));
  EXPECT_EQ(sender.stats().failed, 1U);
  EXPECT_EQ(sender.stats().retried, 0U);
}

TEST(WebhookSenderTest, ConcurrentEnqueueDeliversEverythingOnceWithUniqueIds) {
  Receiver receiver;
  WebhookSender sender(FastOptions());
  constexpr int kProducers = 4;
  std::vector<std::thread> producers;
  producers.reserve(kProducers);
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&sender, &receiver, p] {
      for (int i = 0; i < 20; ++i) sender.Enqueue({receiver.Url(), "status", "{}", std::to_string(p * 100 + i)});
    });
  }
  for (auto& producer : producers) producer.join();
  ASSERT_TRUE(sender.Drain(milliseconds(10000)));
  EXPECT_EQ(sender.stats().delivered, 80U);
  std::set<std::string> ids;
  for (const auto& hit : receiver.hits()) ids.insert(hit.delivery);
  EXPECT_EQ(ids.size(), 80U);
}

// A receiver whose handler blocks until Release(), to hold one delivery in flight.
struct Gate {
  std::mutex mutex;
  std::condition_variable opened;
  bool open = false;
  void Wait() {
    std::unique_lock lock(mutex);
    opened.wait_for(lock, milliseconds(5000), [this] { return open; });
  }
  void Release() {
    {
      const std::lock_guard lock(mutex);
      open = true;
    }
    opened.notify_all();
  }
};

TEST(WebhookSenderTest, DropsBeyondMaxPending) {
  LogCapture log;
  Gate gate;
  Receiver receiver([&gate](int index, httplib::Response& /*response*/) {
    if (index == 0) gate.Wait();
  });
  WebhookOptions options = FastOptions();
  options.max_pending = 1;
  WebhookSender sender(options);
  sender.Enqueue({receiver.Url(), "status", "{}", "job-a"});
  ASSERT_TRUE(receiver.WaitFor(1, milliseconds(5000)));  // job-a is in flight, the queue is empty
  sender.Enqueue({receiver.Url(), "status", "{}", "job-b"});
  sender.Enqueue({receiver.Url(), "status", "{}", "job-c"});
  EXPECT_EQ(sender.stats().dropped, 1U);
  EXPECT_NE(log.Text().find("dropped (queue full): job job-c"), std::string::npos) << log.Text();
  gate.Release();
  ASSERT_TRUE(sender.Drain(milliseconds(5000)));
  EXPECT_EQ(sender.stats().delivered, 2U);
}

TEST(WebhookSenderTest, DestructorAbortsInFlightAndDropsPending) {
  LogCapture log;
  Gate gate;
  Receiver receiver([&gate](int /*index*/, httplib::Response& /*response*/) { gate.Wait(); });
  WebhookOptions options = FastOptions();
  options.timeout = milliseconds(10000);
  auto sender = std::make_unique<WebhookSender>(options);
  sender->Enqueue(Delivery(receiver.Url()));
  sender->Enqueue(Delivery(receiver.Url()));
  ASSERT_TRUE(receiver.WaitFor(1, milliseconds(5000)));  // the first is in flight, held by the gate
  EXPECT_FALSE(sender->Drain(milliseconds(50)));
  const auto start = Clock::now();
  sender.reset();
  EXPECT_LT(Clock::now() - start, milliseconds(3000));  // did not wait for the 10 s timeout
  gate.Release();
  EXPECT_EQ(receiver.count(), 1U);
  EXPECT_NE(log.Text().find("2 pending deliveries dropped"), std::string::npos) << log.Text();
}

}  // namespace
}  // namespace facefleet::http
