// AWS Signature Version 4 for S3, as pure functions: no clock, no network, no environment. The S3 backend
// (s3_storage.cpp) passes in the time and the request; tests check AWS's published examples byte for byte.
//
// Conventions: paths, query names and values are passed decoded ("/bucket/test$file.text", {"prefix", "J"});
// the functions encode them the way S3 expects (RFC 3986 unreserved characters stay, everything else is %XX of
// its UTF-8 bytes, '/' stays in paths). The URL the request is sent to must use the same encoding, which
// UriEncode and CanonicalQueryString provide.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace facefleet::storage::sigv4 {

// x-amz-content-sha256 value for bodies whose hash is not computed (large uploads: S3 still checks the bytes
// against Content-Length, and TLS protects them in transit).
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
// SHA-256 of zero bytes: the payload hash of GET, HEAD and DELETE.
inline constexpr std::string_view kEmptyPayloadHash =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
inline constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
// S3 refuses presigned URLs valid for longer than this (7 days).
inline constexpr std::int64_t kMaxPresignSeconds = 604800;

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // temporary (STS) credentials only; signed as x-amz-security-token
};

// (name, value) pairs, decoded. Order does not matter: canonical forms sort them.
using Params = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method;        // "GET", "PUT", ...
  std::string path;          // decoded absolute path: "/test.txt" (virtual-hosted), "/bucket/test.txt"
  Params query;              // decoded; a flag such as "?lifecycle" is {"lifecycle", ""}
  Params headers;            // the headers to sign, any name case; must include "host"
  std::string payload_hash;  // hex SHA-256 of the body, or kUnsignedPayload
};

// Lower-case hex of SHA-256(data).
std::string Sha256Hex(std::string_view data);
// Raw 32-byte HMAC-SHA256(key, data).
std::string HmacSha256(std::string_view key, std::string_view data);
std::string HexEncode(std::string_view bytes);

// S3's URI encoding (see above). `encode_slash` is false for paths, true for query names and values.
std::string UriEncode(std::string_view text, bool encode_slash);

// "a=1&b=&c=x%2Fy": names and values encoded, sorted by name then value. Also the query string to send.
std::string CanonicalQueryString(const Params& query);

// "host;range;x-amz-date": lower-cased header names, sorted, ';'-joined.
std::string SignedHeaderNames(const Params& headers);

// The canonical request: method, encoded path, canonical query, canonical headers (lower-cased names, values
// trimmed with inner runs of spaces collapsed), signed header names and payload hash, '\n'-separated.
std::string CanonicalRequest(const Request& request);

// "20130524T000000Z" for a UTC time point (seconds precision).
std::string AmzDate(std::chrono::system_clock::time_point time);

// "20130524/us-east-1/s3/aws4_request" for an x-amz-date value.
std::string CredentialScope(std::string_view amz_date, std::string_view region, std::string_view service);

// "AWS4-HMAC-SHA256\n<amz_date>\n<scope>\n<hex SHA-256 of the canonical request>".
std::string StringToSign(std::string_view amz_date, std::string_view region, std::string_view service,
                         std::string_view canonical_request);

// HMAC chain "AWS4"+secret -> date -> region -> service -> "aws4_request" (raw bytes).
std::string SigningKey(std::string_view secret, std::string_view date, std::string_view region,
                       std::string_view service);

// Hex signature of `request` at `amz_date`.
std::string Signature(std::string_view secret, std::string_view amz_date, std::string_view region,
                      std::string_view service, const Request& request);

// The Authorization header value for `request`, whose headers must already hold every header to sign
// (host, x-amz-date, x-amz-content-sha256, ...).
std::string AuthorizationHeader(const Credentials& credentials, std::string_view amz_date, std::string_view region,
                                std::string_view service, const Request& request);

// The query string of a presigned URL for `request` (query-string authentication): the request's own query plus
// X-Amz-Algorithm, -Credential, -Date, -Expires, -SignedHeaders (and -Security-Token for temporary credentials),
// then X-Amz-Signature. The payload is UNSIGNED-PAYLOAD; only the headers in `request` are signed (host).
std::string PresignedQuery(const Credentials& credentials, std::string_view amz_date, std::string_view region,
                           std::string_view service, std::int64_t expires_s, Request request);

}  // namespace facefleet::storage::sigv4
