// API keys and per-key limits for the job service.
//
// A key looks like "ff_<id>_<secret>": the id (12 base32 characters) is public and names the key in logs, job
// ownership and `facefleet keys list`; the secret (32 base32 characters, 160 bits) is shown once at creation and
// stored only as HMAC-SHA256(pepper, secret), so a leaked database does not leak usable keys. Verification is a
// constant-time comparison.
//
// Thread safety: KeyStore and RateLimiter may be used from any thread. KeyStore caches verified keys for a few
// seconds (a revocation takes effect within `cache_ttl`).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "facefleet/status.hpp"

struct sqlite3;

namespace facefleet::http {

struct ApiKeyInfo {
  std::string id;
  std::string name;
  std::int64_t created_ms = 0;
  std::int64_t revoked_ms = 0;  // 0 = active
};

struct CreatedKey {
  ApiKeyInfo info;
  std::string key;  // the full secret key; shown once, never stored
};

class KeyStore {
 public:
  // Opens (creating) the key database at `path`. `pepper` keys the hashes; changing it invalidates every key.
  static Result<std::unique_ptr<KeyStore>> Open(const std::string& path, std::string pepper,
                                                std::chrono::milliseconds cache_ttl = std::chrono::seconds(5));
  ~KeyStore();
  KeyStore(const KeyStore&) = delete;
  KeyStore& operator=(const KeyStore&) = delete;

  Result<CreatedKey> Create(const std::string& name);
  Result<std::vector<ApiKeyInfo>> List();
  // kNotFound when no key has this id; ok when already revoked.
  Status Revoke(const std::string& id);
  // Number of active keys.
  Result<std::int64_t> CountActive();

  // The key's id when `key` is a valid, active key; kUnauthenticated otherwise (the message never echoes it).
  Result<std::string> Verify(const std::string& key);

 private:
  KeyStore(sqlite3* db, std::string pepper, std::chrono::milliseconds cache_ttl);
  std::string Hash(const std::string& secret) const;

  std::mutex mu_;  // guards db_ (one connection; key operations are rare and fast) and cache_
  sqlite3* db_;
  const std::string pepper_;
  const std::chrono::milliseconds cache_ttl_;
  struct CacheEntry {
    std::string hash;
    std::chrono::steady_clock::time_point expires;
  };
  std::unordered_map<std::string, CacheEntry> cache_;  // key id -> verified hash
};

// Extracts the key from an "Authorization: Bearer <key>" header value; empty when absent or malformed.
std::string BearerToken(const std::string& authorization);

// Token buckets per key: `rate` requests per second refill up to `burst`. rate <= 0 disables limiting.
class RateLimiter {
 public:
  RateLimiter(double rate, double burst);
  // 0 when the request may proceed (a token is taken); else the seconds until a token is available.
  double Acquire(const std::string& key_id);

 private:
  struct Bucket {
    double tokens = 0;
    std::chrono::steady_clock::time_point updated;
  };
  static constexpr std::size_t kShards = 16;  // one mutex per shard: keys never contend across shards
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, Bucket> buckets;
  };
  const double rate_;
  const double burst_;
  std::vector<Shard> shards_;
};

}  // namespace facefleet::http
