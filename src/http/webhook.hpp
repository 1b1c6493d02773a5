// Webhook delivery for the job service: URL validation at submission, signing, and a background sender that
// POSTs JSON events to job owners' endpoints with retries.
//
// Security model (the URL is chosen by an API client, the request is made from inside our network):
//   - Only http/https, no userinfo, no redirects followed, no proxy (an egress proxy would hide the address).
//   - Unless allow_private, every address the host resolves to must be public (IsPublicAddress). The check is
//     repeated right before each attempt and curl is pinned to the checked addresses (CURLOPT_RESOLVE), and the
//     socket-open callback refuses any other non-public address, so DNS rebinding between check and connect
//     cannot reach an internal service.
//   - Each request carries X-Facefleet-Signature: "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>".
//     Receivers recompute it over the raw body, compare in constant time and refuse timestamps older than a few
//     minutes (VerifyWebhookSignature does exactly that). Every attempt is signed afresh with the current time,
//     so a late retry still passes a short max age. The secret is never logged.
//
// Receiver contract: a 2xx answer means delivered. 5xx, 408, 429 (Retry-After honoured, capped at max_backoff),
// timeouts and connection errors are retried with exponential back-off and jitter; other answers (3xx, 4xx) are
// final. Delivery is at-least-once: X-Facefleet-Delivery is the same on every attempt of one delivery, so
// receivers dedupe on it. Deliveries are not ordered (a retried one may arrive after a later one).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <thread>

#include "facefleet/status.hpp"

namespace facefleet::http {

namespace internal {
struct AttemptOutcome;  // what one delivery attempt came to (defined in webhook.cpp)
}  // namespace internal

struct WebhookOptions {
  std::string secret;                               // HMAC key: the server's webhook signing secret
  bool allow_private = false;                       // --allow-private-webhooks: skip the public-address check
  int max_attempts = 5;                             // per delivery, first attempt included (values < 1 mean 1)
  std::chrono::milliseconds initial_backoff{1000};  // before the 2nd attempt; doubled each retry, with jitter
  std::chrono::milliseconds max_backoff{60000};     // cap on one pause, Retry-After included
  std::chrono::milliseconds timeout{10000};         // per attempt: connect + request + response
  std::size_t max_pending = 10000;  // deliveries queued (retries included) beyond this are dropped with a warning
  std::string user_agent;           // "" = "facefleet-webhook"
};

// Whether `address` (an IPv4 or IPv6 literal, no brackets) is a public unicast address. False for loopback,
// private (10/8, 172.16/12, 192.168/16, fc00::/7), link-local (169.254/16, fe80::/10), CGNAT 100.64/10,
// unspecified, multicast, broadcast, documentation/benchmark/reserved ranges, and IPv6 forms that embed a
// non-public IPv4 address (IPv4-mapped ::ffff:0:0/96, NAT64 64:ff9b::/96, 6to4 2002::/16). IPv6 outside
// 2000::/3 is never public. False for text that is not an address literal.
bool IsPublicAddress(std::string_view address);

// Validates a webhook URL at job submission: http or https only; a host is required; no userinfo; port 1-65535;
// an ASCII host (IDNs in punycode); at most 2048 characters. Unless allow_private, the host is resolved (this
// blocks on DNS) and every address must be public; a host that does not resolve is refused ("cannot resolve").
// Returns kUsage with a message that starts with "webhook: " and names the reason.
Status ValidateWebhookUrl(const std::string& url, bool allow_private);

// The X-Facefleet-Signature value for `body` sent at `unix_seconds`:
// "t=<unix_seconds>,v1=<lowercase hex HMAC-SHA256(secret, "<unix_seconds>.<body>")>".
std::string SignWebhook(const std::string& secret, std::int64_t unix_seconds, std::string_view body);

// Receiver side: true when `header` (comma-separated key=value items: exactly one t, at least one v1, other
// keys ignored) carries a v1 matching `body` under `secret` (constant-time compare) and |now_s - t| <= max_age_s
// (replay protection; a timestamp from the future beyond the same margin is refused too).
bool VerifyWebhookSignature(const std::string& secret, std::string_view header, std::string_view body,
                            std::int64_t now_s, std::int64_t max_age_s);

struct WebhookDelivery {
  std::string url;     // validated at submission with ValidateWebhookUrl (checked again before each attempt)
  std::string event;   // "status" | "progress" | "completed": sent as X-Facefleet-Event
  std::string body;    // JSON document, sent as is and signed byte for byte
  std::string job_id;  // for logs
};

// Delivers webhooks from one background thread; attempts are sequential. Waiting deliveries sit in a queue
// ordered by due time, so a delivery waiting to retry never holds up one that is due now.
//
// Thread safety: Enqueue, Drain and stats may be called from any thread concurrently. Enqueue only takes a
// short lock (never waits for the network). The destructor must not race with other calls.
class WebhookSender {
 public:
  struct Stats {
    std::uint64_t delivered = 0;  // answered 2xx
    std::uint64_t failed = 0;     // gave up: final answer, attempts exhausted, or refused address/URL
    std::uint64_t retried = 0;    // attempts that failed and were scheduled again
    std::uint64_t dropped = 0;    // never finished: queue full at Enqueue, or still pending at destruction
  };

  // Starts the sender thread. Copies `options`; the secret stays in this object only.
  explicit WebhookSender(WebhookOptions options);
  // Stops the thread: an attempt in progress is aborted and every pending delivery is dropped (counted, one
  // warning line). Call Drain first to flush.
  ~WebhookSender();
  WebhookSender(const WebhookSender&) = delete;
  WebhookSender& operator=(const WebhookSender&) = delete;

  // Queues `delivery` for its first attempt now and gives it a unique delivery id. Drops it (warning log,
  // stats.dropped) when max_pending deliveries are already waiting.
  void Enqueue(WebhookDelivery delivery);
  // Waits until no delivery is queued or in progress (retries included). False on timeout.
  bool Drain(std::chrono::milliseconds timeout);
  Stats stats() const;

 private:
  using Clock = std::chrono::steady_clock;
  struct Pending {
    WebhookDelivery delivery;
    std::string id;    // X-Facefleet-Delivery: the same on every attempt
    int attempts = 0;  // attempts made so far
  };
  void Run();
  // Books the end of one attempt: delivered, failed, dropped, or back in the queue for a retry. Called with
  // mutex_ held; returns the warning to log once it is released ("" for none).
  std::string Settle(Pending pending, const internal::AttemptOutcome& outcome);
  std::chrono::milliseconds Backoff(int attempts_made);  // worker thread only

  const WebhookOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;                     // the worker: new work or stop
  std::condition_variable drained_;                  // Drain: the queue became empty and nothing is in flight
  std::multimap<Clock::time_point, Pending> queue_;  // guarded by mutex_; by due time, FIFO among equal times
  bool in_flight_ = false;                           // guarded by mutex_
  bool stopping_ = false;                            // guarded by mutex_
  std::atomic<bool> abort_{false};  // set by the destructor; polled by the transfer in progress to cut it short
  Stats stats_;                     // guarded by mutex_
  std::mt19937_64 jitter_;          // worker thread only
  std::thread thread_;              // last: starts once everything above is initialised
};

}  // namespace facefleet::http
