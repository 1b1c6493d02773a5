// API keys for the job service.
//
// A key looks like "ff_<id>_<secret>": the id (12 base32 characters) is public and names the key in logs, job
// ownership and `facefleet keys list`; the secret (32 base32 characters, 160 bits) is shown once at creation and
// stored only as HMAC-SHA256(pepper, secret), so a leaked database does not leak usable keys. Verification is a
// constant-time comparison.
//
// Two stores share this logic and differ only in where the rows live: SQLite (OpenSqliteKeyStore, one file:
// one machine) and Redis (OpenRedisKeyStore: every API replica of a fleet sees the same keys).
//
// Thread safety: a KeyStore may be used from any thread. It caches verified keys for `cache_ttl` (default 5 s),
// so a revocation, made through this store or any other one on the same data, takes effect within that time.
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
#include "redis/options.hpp"

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

// A key as stored: its public part and the hex HMAC of its secret. Moving a key between stores (Export, Import)
// keeps it valid as long as both use the same pepper.
struct StoredKey {
  ApiKeyInfo info;
  std::string hash;
};

class KeyStore {
 public:
  virtual ~KeyStore() = default;
  KeyStore(const KeyStore&) = delete;
  KeyStore& operator=(const KeyStore&) = delete;

  Result<CreatedKey> Create(const std::string& name);
  // Create, but only while no active key exists, decided atomically by the store: of several servers starting
  // at once on an empty store, one creates the first key. nullopt when an active key exists.
  Result<std::optional<CreatedKey>> CreateFirst(const std::string& name);
  // Every key, active and revoked, oldest first (ties by id): Export without the hashes.
  Result<std::vector<ApiKeyInfo>> List();
  // kNotFound when no key has this id; ok when already revoked.
  Status Revoke(const std::string& id);
  // Number of active keys.
  virtual Result<std::int64_t> CountActive() = 0;

  // The key's id when `key` is a valid, active key; kUnauthenticated otherwise (the message never echoes it).
  // kUnavailable when the store cannot be read.
  Result<std::string> Verify(const std::string& key);

  // Every key with its hash, oldest first: for copying keys to another store (`facefleet keys import`).
  virtual Result<std::vector<StoredKey>> Export() = 0;
  // Stores a key exported from another store as it is (id, hash, timestamps). kConflict when the id exists.
  Status Import(const StoredKey& key);

 protected:
  // `pepper` keys the hashes; changing it invalidates every key.
  KeyStore(std::string pepper, std::chrono::milliseconds cache_ttl);

  enum class InsertOutcome : std::uint8_t { kInserted, kIdTaken, kActiveKeyExists };
  // Stores `key` unless its id exists; with `only_if_none_active`, also unless an active key exists. Each check
  // and the write are one atomic step in the store (other processes included).
  virtual Result<InsertOutcome> Insert(const StoredKey& key, bool only_if_none_active) = 0;
  // Sets revoked_ms unless the key is already revoked; kNotFound for an unknown id.
  virtual Status MarkRevoked(const std::string& id, std::int64_t revoked_ms) = 0;
  // The stored hash of the active key `id`; nullopt when there is no such key or it is revoked.
  virtual Result<std::optional<std::string>> ActiveHash(const std::string& id) = 0;

 private:
  std::string Hash(const std::string& secret) const;
  Result<CreatedKey> NewKey(const std::string& name, StoredKey& stored) const;

  const std::string pepper_;
  const std::chrono::milliseconds cache_ttl_;
  struct CacheEntry {
    std::string hash;
    std::chrono::steady_clock::time_point expires;
  };
  std::mutex cache_mu_;                                // guards cache_ (never held during a store call)
  std::unordered_map<std::string, CacheEntry> cache_;  // key id -> verified hash
};

// Opens (creating) the SQLite key database at `path`.
Result<std::unique_ptr<KeyStore>> OpenSqliteKeyStore(const std::string& path, std::string pepper,
                                                     std::chrono::milliseconds cache_ttl = std::chrono::seconds(5));

struct RedisKeyStoreOptions {
  redis::ConnectionOptions connection;
  // Keys: <prefix>apikey:<id> (hash: name, hash, created_ms, revoked_ms), <prefix>apikeys (zset id ->
  // created_ms: List) and <prefix>apikeys:active (set of active ids: CountActive, CreateFirst).
  std::string prefix = "facefleet:";
  std::string pepper;
  std::chrono::milliseconds cache_ttl{5'000};
};
// Connects (kUnavailable when Redis does not answer, kUsage when it rejects the credentials) and loads the
// store's scripts.
Result<std::unique_ptr<KeyStore>> OpenRedisKeyStore(const RedisKeyStoreOptions& options);

// Extracts the key from an "Authorization: Bearer <key>" header value; empty when absent or malformed.
std::string BearerToken(const std::string& authorization);

}  // namespace facefleet::http
