#include "http/webhook.hpp"

#include <netdb.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/socket.h>

#include "core/hex.hpp"
#include "core/log.hpp"

namespace facefleet::http {
namespace {

constexpr std::size_t kMaxUrlLength = 2048;
constexpr std::string_view kDefaultUserAgent = "facefleet-webhook";
constexpr std::size_t kSha256Size = 32;

Status Refuse(const std::string& reason) { return {ErrorCode::kUsage, "webhook: " + reason}; }

char ToLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// ---- Address classification ----------------------------------------------------------------------------------

struct V4Range {
  std::uint32_t base;
  unsigned bits;
};

// IANA special-purpose IPv4 ranges that are not globally reachable (RFC 6890 and successors).
constexpr std::array<V4Range, 15> kNonPublicV4 = {{
    {0x00000000U, 8},   // 0.0.0.0/8: "this network", 0.0.0.0 unspecified
    {0x0A000000U, 8},   // 10/8 private
    {0x64400000U, 10},  // 100.64/10 carrier-grade NAT
    {0x7F000000U, 8},   // 127/8 loopback
    {0xA9FE0000U, 16},  // 169.254/16 link-local (cloud metadata lives at 169.254.169.254)
    {0xAC100000U, 12},  // 172.16/12 private
    {0xC0000000U, 24},  // 192.0.0/24 IETF protocol assignments
    {0xC0000200U, 24},  // 192.0.2/24 documentation
    {0xC0586300U, 24},  // 192.88.99/24 6to4 relay anycast
    {0xC0A80000U, 16},  // 192.168/16 private
    {0xC6120000U, 15},  // 198.18/15 benchmarking
    {0xC6336400U, 24},  // 198.51.100/24 documentation
    {0xCB007100U, 24},  // 203.0.113/24 documentation
    {0xE0000000U, 4},   // 224/4 multicast
    {0xF0000000U, 4},   // 240/4 reserved, 255.255.255.255 broadcast
}};

bool IsPublicV4(const unsigned char* bytes) {
  const std::uint32_t address = (std::uint32_t{bytes[0]} << 24U) | (std::uint32_t{bytes[1]} << 16U) |
                                (std::uint32_t{bytes[2]} << 8U) | std::uint32_t{bytes[3]};
  return std::none_of(kNonPublicV4.begin(), kNonPublicV4.end(), [address](const V4Range& range) {
    const std::uint32_t mask = ~std::uint32_t{0} << (32U - range.bits);
    return (address & mask) == range.base;
  });
}

using V6Prefix = std::array<unsigned char, 12>;  // the first 96 bits of an IPv6 address

bool StartsWith(const unsigned char* bytes, const V6Prefix& prefix) {
  return std::equal(prefix.begin(), prefix.end(), bytes);
}

// An allow-list: global unicast 2000::/3 only, minus the special ranges inside it; forms that embed an IPv4
// address are judged by that address, since the packet may end up there.
bool IsPublicV6(const unsigned char* bytes) {
  static constexpr V6Prefix kMapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};    // ::ffff:0:0/96
  static constexpr V6Prefix kCompat = {};                                            // ::/96
  static constexpr V6Prefix kNat64 = {0, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0};  // 64:ff9b::/96
  if (StartsWith(bytes, kMapped) || StartsWith(bytes, kNat64)) return IsPublicV4(bytes + 12);
  if (StartsWith(bytes, kCompat)) return false;   // ::, ::1, deprecated IPv4-compatible
  if ((bytes[0] & 0xE0U) != 0x20U) return false;  // outside 2000::/3: ULA, link-local, multicast, ...
  if (bytes[0] == 0x20 && bytes[1] == 0x02) return IsPublicV4(bytes + 2);  // 6to4 2002::/16
  if (bytes[0] == 0x20 && bytes[1] == 0x01) {
    if (bytes[2] < 0x02) return false;                       // 2001::/23 IETF assignments, Teredo 2001::/32
    if (bytes[2] == 0x0D && bytes[3] == 0xB8) return false;  // 2001:db8::/32 documentation
  }
  return !(bytes[0] == 0x3F && bytes[1] == 0xFF && (bytes[2] & 0xF0U) == 0);  // 3fff::/20 documentation
}

// Judges a socket address from getaddrinfo or curl; copies out of it, since sockaddr is only 2-byte aligned.
bool IsPublicSockaddr(const sockaddr* address, std::size_t size) {
  if (address->sa_family == AF_INET && size >= sizeof(sockaddr_in)) {
    sockaddr_in in{};
    std::memcpy(&in, address, sizeof(in));
    std::array<unsigned char, 4> bytes{};
    std::memcpy(bytes.data(), &in.sin_addr, bytes.size());
    return IsPublicV4(bytes.data());
  }
  if (address->sa_family == AF_INET6 && size >= sizeof(sockaddr_in6)) {
    sockaddr_in6 in6{};
    std::memcpy(&in6, address, sizeof(in6));
    return IsPublicV6(in6.sin6_addr.s6_addr);
  }
  return false;
}

// "1.2.3.4" or "2001:db8::1" (no brackets); "" for other families.
std::string NumericHost(const sockaddr* address, std::size_t size) {
  std::array<char, INET6_ADDRSTRLEN> text{};
  if (address->sa_family == AF_INET && size >= sizeof(sockaddr_in)) {
    sockaddr_in in{};
    std::memcpy(&in, address, sizeof(in));
    if (inet_ntop(AF_INET, &in.sin_addr, text.data(), text.size()) != nullptr) return text.data();
  } else if (address->sa_family == AF_INET6 && size >= sizeof(sockaddr_in6)) {
    sockaddr_in6 in6{};
    std::memcpy(&in6, address, sizeof(in6));
    if (inet_ntop(AF_INET6, &in6.sin6_addr, text.data(), text.size()) != nullptr) return text.data();
  }
  return "";
}

bool IsIpLiteral(const std::string& host) {
  std::array<unsigned char, sizeof(in6_addr)> scratch{};
  return inet_pton(AF_INET, host.c_str(), scratch.data()) == 1 ||
         inet_pton(AF_INET6, host.c_str(), scratch.data()) == 1;
}

struct Resolution {
  std::vector<std::string> addresses;  // every address of the host, numeric
  std::string error;                   // "" when resolved (and, if checked, all public)
  bool refused = false;                // resolved, but to a non-public address: retrying cannot help
};

// Resolves `host` (blocking) and, unless allow_private, requires every address to be public: refusing when any
// is private (rather than skipping it) keeps a hostile name from mixing one public address in to pass.
Resolution Resolve(const std::string& host, bool allow_private) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &list);
  Resolution result;
  if (rc != 0 || list == nullptr) {
    result.error = "cannot resolve host '" + host + "': " + (rc != 0 ? gai_strerror(rc) : "no addresses");
    return result;
  }
  const std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owner(list, &freeaddrinfo);
  for (const addrinfo* entry = list; entry != nullptr; entry = entry->ai_next) {
    const std::string numeric = NumericHost(entry->ai_addr, entry->ai_addrlen);
    if (numeric.empty()) continue;
    if (!allow_private && !IsPublicSockaddr(entry->ai_addr, entry->ai_addrlen)) {
      result.error = "host '" + host + "' resolves to non-public address ";
      result.error += numeric;
      result.error += " (internal endpoints need --allow-private-webhooks)";
      result.refused = true;
      return result;
    }
    if (std::find(result.addresses.begin(), result.addresses.end(), numeric) == result.addresses.end())
      result.addresses.push_back(numeric);
  }
  if (result.addresses.empty()) result.error = "cannot resolve host '" + host + "': no IP addresses";
  return result;
}

// ---- URL parsing ---------------------------------------------------------------------------------------------

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct UrlFree {
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
};
using UrlHandle = std::unique_ptr<CURLU, UrlFree>;

// One part of a parsed URL; nullopt when absent.
std::optional<std::string> UrlPart(CURLU* url, CURLUPart part, unsigned flags = 0) {
  char* text = nullptr;
  if (curl_url_get(url, part, &text, flags) != CURLUE_OK || text == nullptr) return std::nullopt;
  std::string out(text);
  curl_free(text);
  return out;
}

struct ParsedUrl {
  UrlHandle handle;  // curl's parse, handed to the transfer itself (CURLOPT_CURLU): one parser, no differential
  std::string host;  // as curl will connect to it: IPv4 normalised ("0177.1" -> "127.0.0.1"), IPv6 unbracketed
  long port = 0;
  bool literal = false;  // host is an IP address: no DNS involved
};

// Checks what can be checked without DNS. The scheme and "//" are checked on the raw text first because curl's
// parser is lenient ("http:/x" and "http:///x" both mean host x to it).
Result<ParsedUrl> ParseUrl(const std::string& url) {
  if (url.empty()) return Refuse("URL is empty");
  if (url.size() > kMaxUrlLength) return Refuse("URL is longer than 2048 characters");
  if (std::any_of(url.begin(), url.end(), [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7F; }))
    return Refuse("URL contains spaces or control characters");
  const auto colon = url.find(':');
  std::string scheme = url.substr(0, colon == std::string::npos ? 0 : colon);
  std::transform(scheme.begin(), scheme.end(), scheme.begin(), ToLower);
  if (scheme != "http" && scheme != "https")
    return Refuse("scheme '" + scheme + "' is not allowed (use http or https)");
  const std::string_view rest = std::string_view(url).substr(colon + 1);
  if (!rest.starts_with("//") || rest.size() == 2 || rest[2] == '/' || rest[2] == '\\')
    return Refuse("URL has no host");
  InitCurlOnce();
  ParsedUrl parsed;
  parsed.handle.reset(curl_url());
  if (!parsed.handle) return Status(ErrorCode::kInternal, "webhook: libcurl cannot allocate a URL");
  const CURLUcode rc = curl_url_set(parsed.handle.get(), CURLUPART_URL, url.c_str(), 0);
  if (rc == CURLUE_NO_HOST) return Refuse("URL has no host");
  if (rc != CURLUE_OK) return Refuse(std::string("invalid URL: ") + curl_url_strerror(rc));
  CURLU* handle = parsed.handle.get();
  if (UrlPart(handle, CURLUPART_USER) || UrlPart(handle, CURLUPART_PASSWORD))
    return Refuse("credentials in the URL (user:password@) are not allowed");
  if (UrlPart(handle, CURLUPART_ZONEID)) return Refuse("scoped IPv6 addresses (%zone) are not allowed");
  auto host = UrlPart(handle, CURLUPART_HOST);
  if (!host || host->empty() || *host == "[]") return Refuse("URL has no host");
  if (std::any_of(host->begin(), host->end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; }))
    return Refuse("host must be ASCII (write international names in punycode)");
  if (host->front() == '[') *host = host->substr(1, host->size() - 2);
  const auto port = UrlPart(handle, CURLUPART_PORT, CURLU_DEFAULT_PORT);
  if (port) std::from_chars(port->data(), port->data() + port->size(), parsed.port);
  if (parsed.port <= 0 || parsed.port > 65535) return Refuse("URL has an invalid port");
  parsed.literal = IsIpLiteral(*host);
  parsed.host = std::move(*host);
  return parsed;
}

// The host of `url` for log lines (never the path or query, which may hold the receiver's tokens).
std::string HostForLog(const std::string& url) {
  auto parsed = ParseUrl(url);
  return parsed.ok() ? parsed->host : "(invalid URL)";
}

// Whether `value` may go into a header line as is (no CR/LF header injection).
bool IsHeaderSafe(std::string_view value) {
  return std::none_of(value.begin(), value.end(), [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

std::string NewDeliveryId() {
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    // The CSPRNG failing is near impossible; an id unique within this process is still good enough to dedupe.
    static std::atomic<std::uint64_t> counter{0};
    const auto now = static_cast<std::uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
    const std::uint64_t next = counter.fetch_add(1);
    std::memcpy(bytes.data(), &now, sizeof(now));
    std::memcpy(bytes.data() + sizeof(now), &next, sizeof(next));
  }
  return core::HexLower(bytes.data(), bytes.size());
}

}  // namespace

bool IsPublicAddress(std::string_view address) {
  const std::string text(address);
  std::array<unsigned char, sizeof(in6_addr)> bytes{};
  if (inet_pton(AF_INET, text.c_str(), bytes.data()) == 1) return IsPublicV4(bytes.data());
  if (inet_pton(AF_INET6, text.c_str(), bytes.data()) == 1) return IsPublicV6(bytes.data());
  return false;
}

Status ValidateWebhookUrl(const std::string& url, bool allow_private) {
  auto parsed = ParseUrl(url);
  if (!parsed.ok()) return parsed.status();
  if (allow_private) return Status::Ok();
  const Resolution resolution = Resolve(parsed->host, false);
  if (!resolution.error.empty()) return Refuse(resolution.error);
  return Status::Ok();
}

// ---- Signatures ----------------------------------------------------------------------------------------------

std::string SignWebhook(const std::string& secret, std::int64_t unix_seconds, std::string_view body) {
  const std::string timestamp = std::to_string(unix_seconds);
  std::string message;
  message.reserve(timestamp.size() + 1 + body.size());
  message.append(timestamp).append(".").append(body);
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  std::size_t mac_size = 0;
  // EVP_Q_mac needs a non-null key pointer even when the key is empty.
  const char* key = secret.empty() ? "" : secret.data();
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key, secret.size(),
                reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac.data(), mac.size(),
                &mac_size) == nullptr) {
    return "t=" + timestamp + ",v1=";  // OpenSSL failing: an empty signature that no receiver accepts
  }
  return "t=" + timestamp + ",v1=" + core::HexLower(mac.data(), mac_size);
}

bool VerifyWebhookSignature(const std::string& secret, std::string_view header, std::string_view body,
                            std::int64_t now_s, std::int64_t max_age_s) {
  std::optional<std::int64_t> timestamp;
  std::vector<std::string> candidates;
  while (!header.empty()) {
    const auto comma = header.find(',');
    std::string_view item = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    const auto equals = item.find('=');
    if (equals == std::string_view::npos) return false;
    const std::string_view key = item.substr(0, equals);
    const std::string_view value = item.substr(equals + 1);
    if (key == "t") {
      std::int64_t t = 0;
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), t);
      if (timestamp || value.empty() || ec != std::errc() || end != value.data() + value.size() || t < 0) return false;
      timestamp = t;
    } else if (key == "v1") {
      std::string lower(value);
      std::transform(lower.begin(), lower.end(), lower.begin(), ToLower);
      candidates.push_back(std::move(lower));
    }  // other keys (future schemes) are ignored
  }
  if (!timestamp || candidates.empty() || now_s < 0 || max_age_s < 0) return false;
  const std::int64_t age = now_s >= *timestamp ? now_s - *timestamp : *timestamp - now_s;
  if (age > max_age_s) return false;
  const std::string expected = SignWebhook(secret, *timestamp, body);
  const std::string_view expected_mac = std::string_view(expected).substr(expected.find(",v1=") + 4);
  if (expected_mac.size() != kSha256Size * 2) return false;
  bool match = false;
  for (const std::string& candidate : candidates) {
    // Constant time, so response timing does not reveal how many leading characters of a forgery were right.
    if (candidate.size() == expected_mac.size() &&
        CRYPTO_memcmp(candidate.data(), expected_mac.data(), expected_mac.size()) == 0)
      match = true;
  }
  return match;
}

// ---- One attempt ---------------------------------------------------------------------------------------------

namespace internal {
struct AttemptOutcome {
  enum Kind : std::uint8_t { kDelivered, kRetry, kFailed, kAborted } kind = kFailed;
  std::chrono::milliseconds retry_after{0};  // the receiver's Retry-After (0: none)
  std::string reason;                        // for the final failure's log line
};
}  // namespace internal

namespace {

using Outcome = internal::AttemptOutcome;

// State shared with curl's callbacks, which run on the sender thread inside curl_easy_perform.
struct Transfer {
  const std::atomic<bool>* abort = nullptr;
  bool allow_private = false;
  bool refused_address = false;  // the socket callback refused a non-public address
};

std::size_t DiscardBody(char* /*data*/, std::size_t size, std::size_t count, void* /*user*/) { return size * count; }

int CheckAbort(void* user, curl_off_t /*dl_total*/, curl_off_t /*dl_now*/, curl_off_t /*ul_total*/,
               curl_off_t /*ul_now*/) {
  return static_cast<const Transfer*>(user)->abort->load() ? 1 : 0;
}

// The last line of defence: whatever curl is about to connect to (pinned address, or anything a future option
// or bug makes it resolve itself) must pass the same public-address check.
curl_socket_t OpenSocket(void* user, curlsocktype purpose, curl_sockaddr* address) {
  auto& transfer = *static_cast<Transfer*>(user);
  if (purpose == CURLSOCKTYPE_IPCXN && !transfer.allow_private && !IsPublicSockaddr(&address->addr, address->addrlen)) {
    transfer.refused_address = true;
    return CURL_SOCKET_BAD;
  }
  return ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

struct SlistFree {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using Slist = std::unique_ptr<curl_slist, SlistFree>;

Slist Append(Slist list, const std::string& line) {
  curl_slist* grown = curl_slist_append(list.get(), line.c_str());
  if (grown == nullptr) return list;  // out of memory: the request goes out without this header
  static_cast<void>(list.release());
  return Slist(grown);
}

struct Request {
  const WebhookDelivery& delivery;
  const std::string& delivery_id;
  const WebhookOptions& options;
};

// Maps the end of a transfer to an outcome. Only transient conditions are retried.
Outcome Judge(CURL* curl, CURLcode code, const Transfer& transfer, const char* error) {
  if (transfer.refused_address) return {Outcome::kFailed, {}, "refused to connect to a non-public address"};
  if (code == CURLE_ABORTED_BY_CALLBACK) return {Outcome::kAborted, {}, "sender stopped"};
  const std::string why = error[0] != '\0' ? error : curl_easy_strerror(code);
  if (code == CURLE_URL_MALFORMAT || code == CURLE_UNSUPPORTED_PROTOCOL) return {Outcome::kFailed, {}, why};
  if (code != CURLE_OK) return {Outcome::kRetry, {}, why};  // connection errors, timeouts, TLS failures
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  if (status >= 200 && status < 300) return {Outcome::kDelivered, {}, ""};
  const std::string http = "HTTP " + std::to_string(status);
  if (status >= 500 || status == 429 || status == 408) {
    curl_off_t retry_after_s = 0;
    curl_easy_getinfo(curl, CURLINFO_RETRY_AFTER, &retry_after_s);
    return {Outcome::kRetry, std::chrono::seconds(std::max<curl_off_t>(retry_after_s, 0)), http};
  }
  if (status >= 300 && status < 400) return {Outcome::kFailed, {}, http + " (redirects are not followed)"};
  return {Outcome::kFailed, {}, http};
}

// Sets every option of one POST. `pins` and `headers` must outlive the transfer.
void Configure(CURL* curl, const Request& request, ParsedUrl& url, Transfer& transfer, curl_slist* pins,
               curl_slist* headers) {
  const WebhookOptions& options = request.options;
  const auto timeout_ms = static_cast<long>(options.timeout.count());
  curl_easy_setopt(curl, CURLOPT_CURLU, url.handle.get());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // no SIGALRM on this background thread
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_PROXY, "");  // ignore http_proxy & co: a proxy would connect where we cannot see
#if LIBCURL_VERSION_NUM >= 0x075500           // 7.85.0 added the string form and deprecated the bitmask
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
#else
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  curl_easy_setopt(curl, CURLOPT_RESOLVE, pins);
  curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, OpenSocket);
  curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, options.user_agent.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.delivery.body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.delivery.body.size()));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, DiscardBody);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, CheckAbort);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
}

// One POST of `request`: parse, resolve and check, pin, send, judge. Blocks for at most about
// options.timeout plus DNS time.
Outcome Attempt(const Request& request, const std::atomic<bool>& abort) {
  const WebhookDelivery& delivery = request.delivery;
  auto url = ParseUrl(delivery.url);
  if (!url.ok()) return {Outcome::kFailed, {}, url.status().message()};
  if (!IsHeaderSafe(delivery.event)) return {Outcome::kFailed, {}, "event name has a line break"};
  const Resolution resolution = Resolve(url->host, request.options.allow_private);
  if (!resolution.error.empty()) {
    return {resolution.refused ? Outcome::kFailed : Outcome::kRetry, {}, resolution.error};
  }
  Slist pins;
  if (!url->literal) {
    // "host:port:addr,addr": curl connects to exactly the addresses just checked, never re-resolving.
    std::string pin = url->host + ":" + std::to_string(url->port) + ":";
    for (std::size_t i = 0; i < resolution.addresses.size(); ++i) {
      const std::string& address = resolution.addresses[i];
      pin += (i > 0 ? "," : "") + (address.find(':') != std::string::npos ? "[" + address + "]" : address);
    }
    pins = Append(std::move(pins), pin);
  }
  const auto now_s =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  Slist headers;
  headers = Append(std::move(headers), "Content-Type: application/json");
  headers = Append(std::move(headers), "X-Facefleet-Event: " + delivery.event);
  headers = Append(std::move(headers), "X-Facefleet-Delivery: " + request.delivery_id);
  headers =
      Append(std::move(headers), "X-Facefleet-Signature: " + SignWebhook(request.options.secret, now_s, delivery.body));
  headers = Append(std::move(headers), "Expect:");  // no 100-continue round trip for bodies over 1 KiB
  const std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> handle(curl_easy_init(), &curl_easy_cleanup);
  if (!handle) return {Outcome::kRetry, {}, "libcurl cannot allocate a transfer"};
  Transfer transfer{&abort, request.options.allow_private};
  std::array<char, CURL_ERROR_SIZE> error{};
  curl_easy_setopt(handle.get(), CURLOPT_ERRORBUFFER, error.data());
  Configure(handle.get(), request, *url, transfer, pins.get(), headers.get());
  const CURLcode code = curl_easy_perform(handle.get());
  return Judge(handle.get(), code, transfer, error.data());
}

WebhookOptions Normalize(WebhookOptions options) {
  options.max_attempts = std::max(options.max_attempts, 1);
  options.initial_backoff = std::max(options.initial_backoff, std::chrono::milliseconds(0));
  options.max_backoff = std::max(options.max_backoff, options.initial_backoff);
  options.timeout = std::max(options.timeout, std::chrono::milliseconds(1));
  if (options.user_agent.empty()) options.user_agent = kDefaultUserAgent;
  return options;
}

}  // namespace

// ---- WebhookSender -------------------------------------------------------------------------------------------

WebhookSender::WebhookSender(WebhookOptions options)
    : options_(Normalize(std::move(options))), jitter_(std::random_device{}()), thread_([this] { Run(); }) {
  InitCurlOnce();
}

WebhookSender::~WebhookSender() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  abort_.store(true);
  wake_.notify_all();
  thread_.join();
}

void WebhookSender::Enqueue(WebhookDelivery delivery) {
  Pending pending{std::move(delivery), NewDeliveryId(), 0};
  {
    const std::lock_guard lock(mutex_);
    if (!stopping_ && queue_.size() < options_.max_pending) {
      queue_.emplace(Clock::now(), std::move(pending));
      wake_.notify_one();
      return;
    }
    ++stats_.dropped;
  }
  core::LogWarn("webhook delivery dropped (queue full): job " + pending.delivery.job_id + " event " +
                pending.delivery.event + " host " + HostForLog(pending.delivery.url));
}

bool WebhookSender::Drain(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return drained_.wait_for(lock, timeout, [this] { return queue_.empty() && !in_flight_; });
}

WebhookSender::Stats WebhookSender::stats() const {
  const std::lock_guard lock(mutex_);
  return stats_;
}

std::chrono::milliseconds WebhookSender::Backoff(int attempts_made) {
  // initial * 2^(attempts-1), capped; then a random point in [half, full] so that deliveries that failed
  // together (one receiver down) do not come back together.
  auto delay = options_.initial_backoff;
  for (int i = 1; i < attempts_made && delay < options_.max_backoff; ++i) delay *= 2;
  delay = std::min(delay, options_.max_backoff);
  const auto half = delay.count() / 2;
  std::uniform_int_distribution<std::int64_t> pick(half, delay.count());
  return std::chrono::milliseconds(pick(jitter_));
}

std::string WebhookSender::Settle(Pending pending, const internal::AttemptOutcome& outcome) {
  switch (outcome.kind) {
    case Outcome::kDelivered:
      ++stats_.delivered;
      return "";
    case Outcome::kAborted:
      ++stats_.dropped;
      return "";
    case Outcome::kRetry:
      if (pending.attempts < options_.max_attempts) {
        ++stats_.retried;
        const auto pause = std::min(std::max(Backoff(pending.attempts), outcome.retry_after), options_.max_backoff);
        queue_.emplace(Clock::now() + pause, std::move(pending));
        return "";
      }
      break;
    case Outcome::kFailed:
      break;
  }
  ++stats_.failed;
  return "webhook delivery failed: job " + pending.delivery.job_id + " event " + pending.delivery.event + " host " +
         HostForLog(pending.delivery.url) + " after " + std::to_string(pending.attempts) +
         " attempt(s): " + outcome.reason;
}

void WebhookSender::Run() {
  std::size_t aborted = 0;  // in-flight attempts cut short by the destructor
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (queue_.empty()) {
      wake_.wait(lock);
      continue;
    }
    const auto first = queue_.begin();
    if (first->first > Clock::now()) {
      wake_.wait_until(lock, first->first);
      continue;
    }
    Pending pending = std::move(first->second);
    queue_.erase(first);
    in_flight_ = true;
    lock.unlock();
    ++pending.attempts;
    const Outcome outcome = Attempt({pending.delivery, pending.id, options_}, abort_);
    lock.lock();
    if (outcome.kind == Outcome::kAborted) ++aborted;
    const std::string warning = Settle(std::move(pending), outcome);
    if (!warning.empty()) {
      // Outside the lock: a log sink may take its time (or, in tests, call stats()). Still in flight until
      // logged, so that Drain returning means the log line is out too.
      lock.unlock();
      core::LogWarn(warning);
      lock.lock();
    }
    in_flight_ = false;
    if (queue_.empty()) drained_.notify_all();
  }
  const std::size_t dropped = queue_.size() + aborted;  // the aborted ones are counted by Settle already
  stats_.dropped += queue_.size();
  queue_.clear();
  drained_.notify_all();
  lock.unlock();
  if (dropped > 0) core::LogWarn("webhook sender stopped: " + std::to_string(dropped) + " pending deliveries dropped");
}

}  // namespace facefleet::http
