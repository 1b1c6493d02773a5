// AWS Signature Version 4 (see sigv4.hpp). Hashing and HMAC come from OpenSSL's libcrypto.
#include "storage/sigv4.hpp"

#include <algorithm>
#include <array>
#include <ctime>
#include <string>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "core/hex.hpp"

namespace facefleet::storage::sigv4 {
namespace {

// Escapes use upper-case hex: S3 canonicalizes with it, and "%2f" instead of "%2F" changes the signature.
constexpr std::string_view kUpperHexDigits = "0123456789ABCDEF";

char ToLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool IsUnreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

// A header value as SigV4 canonicalizes it: leading and trailing spaces removed, inner runs of spaces collapsed.
std::string CanonicalHeaderValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  bool pending_space = false;
  for (const char c : value) {
    if (c == ' ' || c == '\t') {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += c;
  }
  return out;
}

// (lower-cased name, canonical value), sorted by name; repeated names keep one entry with ','-joined values.
Params CanonicalHeaders(const Params& headers) {
  Params out;
  out.reserve(headers.size());
  for (const auto& [name, value] : headers) {
    std::string lower(name.size(), '\0');
    std::transform(name.begin(), name.end(), lower.begin(), ToLower);
    out.emplace_back(std::move(lower), CanonicalHeaderValue(value));
  }
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  Params merged;
  for (auto& header : out) {
    if (!merged.empty() && merged.back().first == header.first) {
      merged.back().second += "," + header.second;
    } else {
      merged.push_back(std::move(header));
    }
  }
  return merged;
}

}  // namespace

std::string HexEncode(std::string_view bytes) { return core::HexLower(bytes); }

std::string Sha256Hex(std::string_view data) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest.data(), &length, EVP_sha256(), nullptr);
  return HexEncode(std::string_view(reinterpret_cast<const char*>(digest.data()), length));
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), mac.data(), &length);
  return {reinterpret_cast<const char*>(mac.data()), length};
}

std::string UriEncode(std::string_view text, bool encode_slash) {
  std::string out;
  out.reserve(text.size() * 3);
  for (const char c : text) {
    if (IsUnreserved(c) || (c == '/' && !encode_slash)) {
      out += c;
      continue;
    }
    const auto byte = static_cast<unsigned char>(c);
    out += '%';
    out += kUpperHexDigits[byte >> 4];
    out += kUpperHexDigits[byte & 0xf];
  }
  return out;
}

std::string CanonicalQueryString(const Params& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(query.size());
  for (const auto& [name, value] : query) encoded.emplace_back(UriEncode(name, true), UriEncode(value, true));
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out += '&';
    out += name;
    out += '=';
    out += value;
  }
  return out;
}

std::string SignedHeaderNames(const Params& headers) {
  std::string out;
  for (const auto& [name, value] : CanonicalHeaders(headers)) {
    if (!out.empty()) out += ';';
    out += name;
  }
  return out;
}

std::string CanonicalRequest(const Request& request) {
  std::string out = request.method + '\n';
  out += UriEncode(request.path.empty() ? "/" : request.path, false) + '\n';
  out += CanonicalQueryString(request.query) + '\n';
  for (const auto& [name, value] : CanonicalHeaders(request.headers))
    out.append(name).append(":").append(value) += '\n';
  out += '\n';
  out += SignedHeaderNames(request.headers) + '\n';
  out += request.payload_hash;
  return out;
}

std::string AmzDate(std::chrono::system_clock::time_point time) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  std::array<char, 20> text{};
  std::strftime(text.data(), text.size(), "%Y%m%dT%H%M%SZ", &utc);
  return text.data();
}

std::string CredentialScope(std::string_view amz_date, std::string_view region, std::string_view service) {
  std::string out(amz_date.substr(0, 8));
  out.append("/").append(region).append("/").append(service).append("/aws4_request");
  return out;
}

std::string StringToSign(std::string_view amz_date, std::string_view region, std::string_view service,
                         std::string_view canonical_request) {
  std::string out(kAlgorithm);
  out.append("\n").append(amz_date).append("\n").append(CredentialScope(amz_date, region, service)).append("\n");
  out += Sha256Hex(canonical_request);
  return out;
}

std::string SigningKey(std::string_view secret, std::string_view date, std::string_view region,
                       std::string_view service) {
  const std::string date_key = HmacSha256("AWS4" + std::string(secret), date);
  const std::string region_key = HmacSha256(date_key, region);
  const std::string service_key = HmacSha256(region_key, service);
  return HmacSha256(service_key, "aws4_request");
}

std::string Signature(std::string_view secret, std::string_view amz_date, std::string_view region,
                      std::string_view service, const Request& request) {
  const std::string key = SigningKey(secret, amz_date.substr(0, 8), region, service);
  return HexEncode(HmacSha256(key, StringToSign(amz_date, region, service, CanonicalRequest(request))));
}

std::string AuthorizationHeader(const Credentials& credentials, std::string_view amz_date, std::string_view region,
                                std::string_view service, const Request& request) {
  std::string out(kAlgorithm);
  out += " Credential=" + credentials.access_key_id + "/" + CredentialScope(amz_date, region, service);
  out += ",SignedHeaders=" + SignedHeaderNames(request.headers);
  out += ",Signature=" + Signature(credentials.secret_access_key, amz_date, region, service, request);
  return out;
}

std::string PresignedQuery(const Credentials& credentials, std::string_view amz_date, std::string_view region,
                           std::string_view service, std::int64_t expires_s, Request request) {
  request.query.emplace_back("X-Amz-Algorithm", std::string(kAlgorithm));
  request.query.emplace_back("X-Amz-Credential",
                             credentials.access_key_id + "/" + CredentialScope(amz_date, region, service));
  request.query.emplace_back("X-Amz-Date", std::string(amz_date));
  request.query.emplace_back("X-Amz-Expires", std::to_string(expires_s));
  request.query.emplace_back("X-Amz-SignedHeaders", SignedHeaderNames(request.headers));
  // Temporary credentials: the token is part of the signed query, so the URL works without any header.
  if (!credentials.session_token.empty()) request.query.emplace_back("X-Amz-Security-Token", credentials.session_token);
  request.payload_hash = std::string(kUnsignedPayload);
  const std::string signature = Signature(credentials.secret_access_key, amz_date, region, service, request);
  return CanonicalQueryString(request.query) + "&X-Amz-Signature=" + signature;
}

}  // namespace facefleet::storage::sigv4
