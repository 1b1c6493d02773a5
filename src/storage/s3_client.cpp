// Signed S3 requests over libcurl (see s3_client.hpp).
#include "storage/s3_client.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <curl/curl.h>

namespace facefleet::storage::s3 {
namespace {

// Answers not streamed to a sink are XML documents: 1000 listed keys take well under 1 MiB.
constexpr std::size_t kMaxBodyBytes = std::size_t{16} << 20;
// S3 error messages are one sentence; anything longer is not worth a log line.
constexpr std::size_t kMaxMessageChars = 200;
// Idle connections kept for reuse; more concurrent calls simply open more connections.
constexpr std::size_t kMaxIdleHandles = 16;

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

bool StartsWithNoCase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    const char c = text[i] >= 'A' && text[i] <= 'Z' ? static_cast<char>(text[i] - 'A' + 'a') : text[i];
    if (c != prefix[i]) return false;
  }
  return true;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r' || text.back() == '\n')) {
    text.remove_suffix(1);
  }
  return text;
}

// State of one attempt, shared with curl's callbacks (which run on the calling thread inside curl_easy_perform).
struct Transfer {
  CURL* curl = nullptr;
  const BodySink* sink = nullptr;
  std::string_view body;  // the whole request body
  std::size_t sent = 0;   // bytes of `body` handed to curl
  Response response;
  bool decided = false;  // whether the first body byte was seen (and where the body goes was decided)
  bool to_sink = false;
  bool ranged = false;         // the request has a Range header: only 206 bodies are the bytes asked for
  bool ignored_range = false;  // a 2xx answer that is not 206 to a ranged request
  bool canceled = false;
  bool too_large = false;
};

std::size_t OnHeader(char* data, std::size_t size, std::size_t count, void* user) {
  auto& transfer = *static_cast<Transfer*>(user);
  Response& response = transfer.response;
  const std::string_view line(data, size * count);
  const auto value = [&line](std::string_view name) { return std::string(Trim(line.substr(name.size()))); };
  if (line.starts_with("HTTP/")) {
    // A new response (after "100 Continue"): forget the previous one's headers.
    response.etag.clear();
    response.last_modified.clear();
    response.error_code.clear();
    response.content_length = -1;
  } else if (StartsWithNoCase(line, "etag:")) {
    response.etag = value("etag:");
  } else if (StartsWithNoCase(line, "last-modified:")) {
    response.last_modified = value("last-modified:");
  } else if (StartsWithNoCase(line, "x-amz-error-code:")) {
    response.error_code = value("x-amz-error-code:");
  } else if (StartsWithNoCase(line, "content-length:")) {
    const std::string digits = value("content-length:");
    response.content_length = digits.empty() ? -1 : std::strtoll(digits.c_str(), nullptr, 10);
  }
  return size * count;
}

std::size_t OnBody(char* data, std::size_t size, std::size_t count, void* user) {
  auto& transfer = *static_cast<Transfer*>(user);
  const std::size_t n = size * count;
  if (!transfer.decided) {
    transfer.decided = true;
    curl_easy_getinfo(transfer.curl, CURLINFO_RESPONSE_CODE, &transfer.response.status);
    const long status = transfer.response.status;
    transfer.to_sink = transfer.sink != nullptr && status >= 200 && status < 300;
    // A store that ignores Range sends the whole object with 200: those bytes must not reach the sink.
    if (transfer.to_sink && transfer.ranged && status != 206) {
      transfer.ignored_range = true;
      return 0;
    }
  }
  if (transfer.to_sink) {
    if (!(*transfer.sink)(std::string_view(data, n))) {
      transfer.canceled = true;
      return 0;  // aborts the transfer
    }
    transfer.response.streamed += n;
    return n;
  }
  if (transfer.response.body.size() + n > kMaxBodyBytes) {
    transfer.too_large = true;
    return 0;
  }
  transfer.response.body.append(data, n);
  return n;
}

std::size_t OnUpload(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto& transfer = *static_cast<Transfer*>(user);
  const std::size_t n = std::min(size * count, transfer.body.size() - transfer.sent);
  std::copy_n(transfer.body.data() + transfer.sent, n, buffer);
  transfer.sent += n;
  return n;
}

// curl rewinds the upload when it must send the body again on a fresh connection.
int OnSeek(void* user, curl_off_t offset, int origin) {
  auto& transfer = *static_cast<Transfer*>(user);
  if (origin != SEEK_SET || offset < 0 || static_cast<std::uint64_t>(offset) > transfer.body.size()) {
    return CURL_SEEKFUNC_CANTSEEK;
  }
  transfer.sent = static_cast<std::size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

// Transport failures that another attempt cannot fix: the URL or TLS setup is wrong.
bool IsPermanent(CURLcode code) {
  switch (code) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_OUT_OF_MEMORY:
      return true;
    default:
      return false;
  }
}

bool IsAccessDenied(std::string_view code) {
  return code == "AccessDenied" || code == "InvalidAccessKeyId" || code == "SignatureDoesNotMatch" ||
         code == "ExpiredToken" || code == "InvalidToken" || code == "TokenRefreshRequired";
}

// Sleeps before attempt `attempt` + 1: exponential back-off with "equal jitter" (half fixed, half random), so
// many clients that failed together do not all come back together.
void Backoff(const S3Options& options, int attempt) {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  auto delay = options.initial_backoff;
  for (int i = 1; i < attempt && delay < options.max_backoff; ++i) delay *= 2;
  delay = std::min(delay, options.max_backoff);
  std::uniform_int_distribution<std::int64_t> jitter(0, std::max<std::int64_t>(delay.count() / 2, 0));
  std::this_thread::sleep_for(std::chrono::milliseconds(delay.count() - delay.count() / 2 + jitter(engine)));
}

}  // namespace

// Easy handles kept for reuse: a handle keeps its connections open between calls, so back-to-back requests
// skip the TCP and TLS handshakes.
class Client::HandlePool {
 public:
  HandlePool() = default;
  ~HandlePool() {
    for (CURL* handle : idle_) curl_easy_cleanup(handle);
  }
  HandlePool(const HandlePool&) = delete;
  HandlePool& operator=(const HandlePool&) = delete;

  CURL* Acquire() {
    {
      const std::lock_guard lock(mutex_);
      if (!idle_.empty()) {
        CURL* handle = idle_.back();
        idle_.pop_back();
        return handle;
      }
    }
    InitCurlOnce();
    return curl_easy_init();
  }

  void Release(CURL* handle) {
    curl_easy_reset(handle);  // options go, connections stay
    const std::lock_guard lock(mutex_);
    if (idle_.size() < kMaxIdleHandles) {
      idle_.push_back(handle);
      return;
    }
    curl_easy_cleanup(handle);
  }

 private:
  std::mutex mutex_;
  std::vector<CURL*> idle_;
};

Client::Client(S3Options options) : options_(std::move(options)), pool_(std::make_unique<HandlePool>()) {
  std::string endpoint =
      options_.endpoint.empty() ? "https://s3." + options_.region + ".amazonaws.com" : options_.endpoint;
  const std::size_t colon = endpoint.find("://");
  scheme_ = endpoint.substr(0, colon);
  endpoint_host_ = endpoint.substr(colon + 3);
  if (!endpoint_host_.empty() && endpoint_host_.back() == '/') endpoint_host_.pop_back();
  // curl omits default ports from the Host header; the signed host must match what is sent.
  const std::string default_port = scheme_ == "https" ? ":443" : ":80";
  if (endpoint_host_.ends_with(default_port)) endpoint_host_.resize(endpoint_host_.size() - default_port.size());
  // "a.b.s3.amazonaws.com" does not match the wildcard certificate "*.s3.amazonaws.com": dotted bucket names
  // can only be reached path-style over https.
  if (scheme_ == "https" && options_.bucket.find('.') != std::string::npos) options_.path_style = true;
}

Client::~Client() = default;

std::string Client::ObjectKey(std::string_view key) const {
  if (options_.prefix.empty()) return std::string(key);
  return options_.prefix + "/" + std::string(key);
}

std::string Client::Describe(std::string_view object_key) const {
  return "s3://" + options_.bucket + "/" + std::string(object_key);
}

Client::Target Client::TargetOf(const std::string& object_key) const {
  if (options_.path_style) {
    return {endpoint_host_, "/" + options_.bucket + (object_key.empty() ? "" : "/" + object_key)};
  }
  return {options_.bucket + "." + endpoint_host_, "/" + object_key};
}

std::string Client::UrlOf(const Target& target, const std::string& query) const {
  std::string url = scheme_ + "://" + target.host + sigv4::UriEncode(target.path, false);
  if (!query.empty()) url += "?" + query;
  return url;
}

std::string Client::PresignGet(const std::string& object_key, std::int64_t expires_s) const {
  const Target target = TargetOf(object_key);
  sigv4::Request request{
      .method = "GET", .path = target.path, .query = {}, .headers = {{"host", target.host}}, .payload_hash = {}};
  const sigv4::Credentials credentials{options_.access_key_id, options_.secret_access_key, options_.session_token};
  const std::string query = sigv4::PresignedQuery(credentials, sigv4::AmzDate(std::chrono::system_clock::now()),
                                                  options_.region, "s3", expires_s, std::move(request));
  return UrlOf(target, query);
}

namespace {

// Owns a curl header list.
struct HeaderList {
  curl_slist* list = nullptr;
  HeaderList() = default;
  ~HeaderList() { curl_slist_free_all(list); }
  HeaderList(const HeaderList&) = delete;
  HeaderList& operator=(const HeaderList&) = delete;
  void Add(const std::string& line) { list = curl_slist_append(list, line.c_str()); }
};

// Sets the method and body options of `curl` for `call`.
void SetMethod(CURL* curl, const Call& call, Transfer& transfer) {
  if (call.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (call.method == "PUT" || call.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(call.body.size()));
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, OnUpload);
    curl_easy_setopt(curl, CURLOPT_READDATA, &transfer);
    curl_easy_setopt(curl, CURLOPT_SEEKFUNCTION, OnSeek);
    curl_easy_setopt(curl, CURLOPT_SEEKDATA, &transfer);
    if (call.method == "POST") curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, "POST");
  } else if (call.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, call.method.c_str());
  }
}

}  // namespace

// The outcome of one attempt.
struct Client::Attempt {
  Response response;
  CURLcode code = CURLE_OK;
  std::string error;  // curl's words when code is not CURLE_OK
  bool canceled = false;
  bool too_large = false;
  bool ignored_range = false;
};

Client::Attempt Client::PerformOnce(const Call& call, const Target& target, const std::string& url,
                                    const std::string& payload_hash, const BodySink* sink) {
  // Signed per attempt: a retry after a long back-off must not carry a stale x-amz-date.
  sigv4::Request request{.method = call.method,
                         .path = target.path,
                         .query = call.query,
                         .headers = {{"host", target.host}},
                         .payload_hash = payload_hash};
  const std::string amz_date = sigv4::AmzDate(std::chrono::system_clock::now());
  request.headers.emplace_back("x-amz-date", amz_date);
  request.headers.emplace_back("x-amz-content-sha256", payload_hash);
  if (!options_.session_token.empty()) request.headers.emplace_back("x-amz-security-token", options_.session_token);
  for (const auto& header : call.headers) request.headers.push_back(header);
  const sigv4::Credentials credentials{options_.access_key_id, options_.secret_access_key, options_.session_token};
  HeaderList headers;
  for (const auto& [name, value] : request.headers) headers.Add(std::string(name).append(": ").append(value));
  headers.Add("Authorization: " + sigv4::AuthorizationHeader(credentials, amz_date, options_.region, "s3", request));
  headers.Add("Expect:");  // no "100 Continue" round trip before uploads

  Attempt attempt;
  CURL* curl = pool_->Acquire();
  if (curl == nullptr) {
    attempt.code = CURLE_FAILED_INIT;
    attempt.error = "libcurl failed to initialise";
    return attempt;
  }
  Transfer transfer;
  transfer.curl = curl;
  transfer.sink = sink;
  transfer.body = call.body;
  transfer.ranged =
      std::any_of(call.headers.begin(), call.headers.end(), [](const auto& header) { return header.first == "range"; });
  std::array<char, CURL_ERROR_SIZE> error{};
  const long stall_s = std::max<long>(1, static_cast<long>((options_.stall_timeout.count() + 999) / 1000));
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.list);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error.data());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // no SIGALRM: we run on any thread
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);  // under 1 byte/s for stall_s seconds: a stall
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, stall_s);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  SetMethod(curl, call, transfer);
  attempt.code = curl_easy_perform(curl);
  if (transfer.response.status == 0) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &transfer.response.status);
  pool_->Release(curl);
  if (attempt.code != CURLE_OK) attempt.error = error[0] != '\0' ? error.data() : curl_easy_strerror(attempt.code);
  attempt.canceled = transfer.canceled;
  attempt.too_large = transfer.too_large;
  attempt.ignored_range = transfer.ignored_range;
  attempt.response = std::move(transfer.response);
  return attempt;
}

Result<Response> Client::Send(const Call& call, const BodySink* sink) {
  const Target target = TargetOf(call.key);
  const std::string url = UrlOf(target, sigv4::CanonicalQueryString(call.query));
  const std::string payload_hash =
      call.sign_payload ? sigv4::Sha256Hex(call.body) : std::string(sigv4::kUnsignedPayload);
  std::string last_error;
  Response last_response;
  int number = 1;
  for (;; ++number) {
    Attempt attempt = PerformOnce(call, target, url, payload_hash, sink);
    Response& response = attempt.response;
    if (attempt.canceled) {
      return Status(ErrorCode::kCanceled, "read of " + Describe(call.key) + " stopped by its receiver");
    }
    if (attempt.ignored_range) {
      return Status(ErrorCode::kInternal, "S3 " + call.op + " " + Describe(call.key) + ": the store answered HTTP " +
                                              std::to_string(response.status) + " to a ranged request");
    }
    if (attempt.too_large) {
      return Status(ErrorCode::kInternal, "S3 " + call.op + " " + Describe(call.key) + ": answer larger than " +
                                              std::to_string(kMaxBodyBytes >> 20) + " MiB");
    }
    if (attempt.code != CURLE_OK) {
      last_error = std::move(attempt.error);
      if (response.streamed > 0) {
        response.interrupted = true;
        response.transport_error = last_error;
        return std::move(response);
      }
      if (IsPermanent(attempt.code)) break;
    } else if ((response.status >= 500 && response.status != 501) ||  // 501 Not Implemented will not change
               (call.error_in_ok_body && response.status == 200 && !XmlElements(response.body, "Error").empty())) {
      last_error.clear();
      last_response = std::move(response);
    } else {
      return std::move(response);
    }
    if (number >= options_.max_attempts) break;
    Backoff(options_, number);
  }
  if (last_error.empty()) {
    if (last_response.status == 200) last_response.status = 500;  // an <Error> document in a 200 answer
    return last_response;
  }
  return Status(ErrorCode::kUnavailable, "S3 " + call.op + " " + Describe(call.key) + " at " + scheme_ + "://" +
                                             endpoint_host_ + " failed after " + std::to_string(number) +
                                             " attempt(s): " + last_error);
}

Status Client::Error(const Call& call, const Response& response) const {
  std::string code = XmlText(response.body, "Code");
  if (code.empty()) code = response.error_code;
  std::string message = XmlText(response.body, "Message");
  if (message.size() > kMaxMessageChars) message = message.substr(0, kMaxMessageChars) + "...";
  const std::string http = "HTTP " + std::to_string(response.status) + (code.empty() ? "" : " " + code);
  const std::string what = call.op + " " + Describe(call.key);
  if (code == "NoSuchBucket") {
    return {ErrorCode::kOutputFailed, "S3 bucket '" + options_.bucket + "' does not exist at " + scheme_ + "://" +
                                          endpoint_host_ + " (" + what + ": " + http + ")"};
  }
  if (response.status == 403 || IsAccessDenied(code)) {
    return {ErrorCode::kOutputFailed, "S3 access denied (check credentials): " + what + ": " + http};
  }
  if (response.status == 404 && (code.empty() || code == "NoSuchKey")) {
    return {ErrorCode::kNotFound, what + ": not found (" + http + ")"};
  }
  if (response.status >= 500) {
    return {ErrorCode::kUnavailable, "S3 " + what + " failed after " + std::to_string(options_.max_attempts) +
                                         " attempt(s): " + http + (message.empty() ? "" : ": " + message)};
  }
  return {ErrorCode::kOutputFailed, "S3 " + what + ": " + http + (message.empty() ? "" : ": " + message)};
}

// ---- XML and dates ---------------------------------------------------------------------------------------------

std::string XmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

namespace {

void AppendUtf8(std::string& out, std::uint32_t code_point) {
  if (code_point < 0x80) {
    out += static_cast<char>(code_point);
  } else if (code_point < 0x800) {
    out += static_cast<char>(0xc0 | (code_point >> 6));
    out += static_cast<char>(0x80 | (code_point & 0x3f));
  } else if (code_point < 0x10000) {
    out += static_cast<char>(0xe0 | (code_point >> 12));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (code_point & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (code_point >> 18));
    out += static_cast<char>(0x80 | ((code_point >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (code_point & 0x3f));
  }
}

// The character an entity body ("amp", "#38", "#x26") stands for; false when unknown or invalid.
bool DecodeEntity(std::string_view entity, std::string& out) {
  static constexpr std::array<std::pair<std::string_view, char>, 5> kNamed = {
      {{"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}}};
  for (const auto& [name, c] : kNamed) {
    if (entity == name) {
      out += c;
      return true;
    }
  }
  if (entity.size() < 2 || entity[0] != '#') return false;
  const bool hex = entity[1] == 'x' || entity[1] == 'X';
  const std::string digits(entity.substr(hex ? 2 : 1));
  if (digits.empty() || digits.size() > 8) return false;
  char* end = nullptr;
  const unsigned long value = std::strtoul(digits.c_str(), &end, hex ? 16 : 10);
  if (end != digits.c_str() + digits.size() || value > 0x10ffff) return false;
  AppendUtf8(out, static_cast<std::uint32_t>(value));
  return true;
}

}  // namespace

std::string XmlUnescape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t semi = text[i] == '&' ? text.find(';', i) : std::string_view::npos;
    if (semi != std::string_view::npos && semi - i <= 10 && DecodeEntity(text.substr(i + 1, semi - i - 1), out)) {
      i = semi + 1;
      continue;
    }
    out += text[i++];
  }
  return out;
}

std::vector<std::string_view> XmlElements(std::string_view xml, std::string_view tag) {
  std::vector<std::string_view> out;
  const std::string open = "<" + std::string(tag);
  const std::string close = "</" + std::string(tag) + ">";
  std::size_t pos = 0;
  while ((pos = xml.find(open, pos)) != std::string_view::npos) {
    const std::size_t after = pos + open.size();
    // "<Key" also starts "<KeyCount>": only '>', '/' or a space may follow the name.
    if (after >= xml.size() || (xml[after] != '>' && xml[after] != '/' && xml[after] != ' ')) {
      pos = after;
      continue;
    }
    const std::size_t gt = xml.find('>', after);
    if (gt == std::string_view::npos) break;
    if (xml[gt - 1] == '/') {
      out.emplace_back();
      pos = gt + 1;
      continue;
    }
    const std::size_t end = xml.find(close, gt + 1);
    if (end == std::string_view::npos) break;
    out.push_back(xml.substr(gt + 1, end - gt - 1));
    pos = end + close.size();
  }
  return out;
}

std::string XmlText(std::string_view xml, std::string_view tag) {
  const std::vector<std::string_view> elements = XmlElements(xml, tag);
  return elements.empty() ? std::string() : XmlUnescape(elements.front());
}

std::string UrlDecode(std::string_view text) {
  const auto hex_value = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 && hex_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::int64_t ParseIso8601Ms(std::string_view text) {
  int year = 0;
  int month = 0;
  int day = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
  int consumed = 0;
  const std::string copy(text);
  if (std::sscanf(copy.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &month, &day, &hour, &minute, &second, &consumed) !=
      6) {
    return -1;
  }
  std::int64_t millis = 0;
  std::string_view rest = text.substr(static_cast<std::size_t>(consumed));
  if (rest.starts_with('.')) {
    rest.remove_prefix(1);
    int digits = 0;
    while (!rest.empty() && rest.front() >= '0' && rest.front() <= '9') {
      if (digits++ < 3) millis = millis * 10 + (rest.front() - '0');
      rest.remove_prefix(1);
    }
    for (; digits < 3; ++digits) millis *= 10;
  }
  if (rest != "Z") return -1;
  std::tm utc{};
  utc.tm_year = year - 1900;
  utc.tm_mon = month - 1;
  utc.tm_mday = day;
  utc.tm_hour = hour;
  utc.tm_min = minute;
  utc.tm_sec = second;
  return static_cast<std::int64_t>(timegm(&utc)) * 1000 + millis;
}

std::int64_t ParseHttpDateMs(const std::string& text) {
  const time_t seconds = curl_getdate(text.c_str(), nullptr);
  return seconds < 0 ? -1 : static_cast<std::int64_t>(seconds) * 1000;
}

}  // namespace facefleet::storage::s3
