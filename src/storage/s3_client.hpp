// Internal to the S3 backend (s3_storage.cpp): signed S3 API requests over libcurl — addressing, retries with
// back-off, a pool of reusable connections, error mapping — and the little XML that S3 answers with.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "facefleet/status.hpp"
#include "storage/s3_storage.hpp"
#include "storage/sigv4.hpp"

namespace facefleet::storage::s3 {

// One S3 API request.
struct Call {
  Call(std::string op_name, std::string http_method, std::string object_key, sigv4::Params query_params = {},
       sigv4::Params extra_headers = {})
      : op(std::move(op_name)),
        method(std::move(http_method)),
        key(std::move(object_key)),
        query(std::move(query_params)),
        headers(std::move(extra_headers)) {}

  std::string op;            // S3 operation, for messages: "GetObject", "UploadPart", ...
  std::string method;        // GET, HEAD, PUT, POST, DELETE
  std::string key;           // object key in the bucket, prefix included; "" addresses the bucket
  sigv4::Params query;       // decoded
  sigv4::Params headers;     // further headers, all signed: range, content-type, content-md5, if-match
  std::string_view body;     // request body (PUT, POST); must outlive Send
  bool sign_payload = true;  // false: x-amz-content-sha256 is UNSIGNED-PAYLOAD (large bodies)
  // CompleteMultipartUpload may answer 200 and still fail (an <Error> document in the body); such answers are
  // retried like a 5xx.
  bool error_in_ok_body = false;
};

struct Response {
  long status = 0;                   // HTTP status (curl reports a long)
  std::string body;                  // the body, unless a 2xx body went to a sink
  std::string etag;                  // response headers S3 callers need
  std::string last_modified;         // HTTP date
  std::string error_code;            // x-amz-error-code (some stores send it; HEAD answers have no body)
  std::int64_t content_length = -1;  // -1: not sent
  std::uint64_t streamed = 0;        // bytes handed to the sink
  // The transfer broke after bytes had reached the sink, so Send did not retry it (that would repeat them);
  // the caller may resume from `streamed`.
  bool interrupted = false;
  std::string transport_error;  // why, when interrupted
};

// Receives a 2xx answer's body as it arrives; false stops the transfer (Send then returns kCanceled).
using BodySink = std::function<bool(std::string_view bytes)>;

class Client {
 public:
  // `options` must be valid (OpenS3Storage checks them).
  explicit Client(S3Options options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const S3Options& options() const { return options_; }

  // Sends `call`, retrying transport errors, stalls and 5xx answers with back-off (never 4xx). Returns the final
  // HTTP answer whatever its status (callers decide what a 404 means; Error maps the rest); a Status only when
  // no answer came after every attempt (kUnavailable), the sink stopped (kCanceled), or libcurl failed (kInternal).
  // A 2xx body goes to `sink` when given, otherwise into Response::body.
  Result<Response> Send(const Call& call, const BodySink* sink = nullptr);

  // The Status for a failed answer to `call` (see s3_storage.hpp for the mapping).
  Status Error(const Call& call, const Response& response) const;

  // Storage key -> object key in the bucket ("<prefix>/<key>").
  std::string ObjectKey(std::string_view key) const;
  // "s3://bucket/<object key>", for messages.
  std::string Describe(std::string_view object_key) const;

  // A presigned GET URL for `object_key`, signed now and valid for `expires_s` seconds.
  std::string PresignGet(const std::string& object_key, std::int64_t expires_s) const;

 private:
  class HandlePool;
  struct Attempt;
  struct Target {
    std::string host;  // Host header: host[:port]
    std::string path;  // decoded
  };
  Attempt PerformOnce(const Call& call, const Target& target, const std::string& url, const std::string& payload_hash,
                      const BodySink* sink);
  Target TargetOf(const std::string& object_key) const;
  std::string UrlOf(const Target& target, const std::string& query) const;

  S3Options options_;
  std::string scheme_;         // "https" or "http"
  std::string endpoint_host_;  // host[:port], default ports removed
  std::unique_ptr<HandlePool> pool_;
};

// ---- XML (S3's answers are small, flat and machine-written; no general parser needed) -----------------------

// Text with &, <, >, " and ' escaped.
std::string XmlEscape(std::string_view text);
// Resolves the predefined entities and numeric references (&#38; &#x26;); unknown entities stay as they are.
std::string XmlUnescape(std::string_view text);
// The raw contents of every <tag>...</tag> (or <tag attr="...">...</tag>; <tag/> gives ""), in order.
// Elements of the same name must not nest (none do in the answers parsed here).
std::vector<std::string_view> XmlElements(std::string_view xml, std::string_view tag);
// The unescaped text of the first <tag> element, or "" when there is none.
std::string XmlText(std::string_view xml, std::string_view tag);
// %XX escapes and '+' (space) decoded: ListObjectsV2 answers with encoding-type=url.
std::string UrlDecode(std::string_view text);
// "2009-10-12T17:50:30.000Z" -> Unix ms; -1 when malformed.
std::int64_t ParseIso8601Ms(std::string_view text);
// "Wed, 21 Oct 2015 07:28:00 GMT" -> Unix ms; -1 when malformed.
std::int64_t ParseHttpDateMs(const std::string& text);

}  // namespace facefleet::storage::s3
