#include "http/auth.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sqlite3.h>

namespace facefleet::http {
namespace {

constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz234567";
constexpr std::size_t kIdLength = 12;
constexpr std::size_t kSecretLength = 32;

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Result<std::string> RandomBase32(std::size_t length) {
  std::vector<unsigned char> bytes(length);
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    return Status(ErrorCode::kInternal, "no randomness from OpenSSL");
  }
  std::string out(length, 'a');
  for (std::size_t i = 0; i < length; ++i) out[i] = kAlphabet[bytes[i] & 31U];
  return out;
}

// Statement helper: prepares, binds text values in order, finalizes on destruction.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql, const std::vector<std::string>& args) : db_(db) {
    ok_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) == SQLITE_OK;
    for (std::size_t i = 0; ok_ && i < args.size(); ++i) {
      ok_ = sqlite3_bind_text(stmt_, static_cast<int>(i + 1), args[i].c_str(), static_cast<int>(args[i].size()),
                              SQLITE_TRANSIENT) == SQLITE_OK;
    }
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // SQLITE_ROW, SQLITE_DONE or an error code.
  int Step() { return ok_ ? sqlite3_step(stmt_) : SQLITE_ERROR; }
  std::string Text(int col) const {
    const auto* text = sqlite3_column_text(stmt_, col);
    return text != nullptr ? reinterpret_cast<const char*>(text) : "";
  }
  std::int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  Status Error(const std::string& what) const { return {ErrorCode::kUnavailable, what + ": " + sqlite3_errmsg(db_)}; }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  bool ok_ = false;
};

}  // namespace

Result<std::unique_ptr<KeyStore>> KeyStore::Open(const std::string& path, std::string pepper,
                                                 std::chrono::milliseconds cache_ttl) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr) !=
      SQLITE_OK) {
    std::string message = path + ": cannot open key database: " + (db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    return Status(ErrorCode::kOutputFailed, message);
  }
  sqlite3_busy_timeout(db, 5000);
  char* error = nullptr;
  const int rc =
      sqlite3_exec(db,
                   "PRAGMA journal_mode=WAL;"
                   "CREATE TABLE IF NOT EXISTS api_keys (id TEXT PRIMARY KEY, name TEXT NOT NULL,"
                   " hash TEXT NOT NULL, created_ms INTEGER NOT NULL, revoked_ms INTEGER NOT NULL DEFAULT 0)",
                   nullptr, nullptr, &error);
  if (rc != SQLITE_OK) {
    std::string message = path + ": cannot initialise key database: " + (error ? error : "");
    sqlite3_free(error);
    sqlite3_close(db);
    return Status(ErrorCode::kOutputFailed, message);
  }
  return std::unique_ptr<KeyStore>(new KeyStore(db, std::move(pepper), cache_ttl));
}

KeyStore::KeyStore(sqlite3* db, std::string pepper, std::chrono::milliseconds cache_ttl)
    : db_(db), pepper_(std::move(pepper)), cache_ttl_(cache_ttl) {}

KeyStore::~KeyStore() { sqlite3_close(db_); }

std::string KeyStore::Hash(const std::string& secret) const {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), pepper_.data(), static_cast<int>(pepper_.size()),
       reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), digest.data(), &length);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4U];
    hex += kHex[digest[i] & 15U];
  }
  return hex;
}

Result<CreatedKey> KeyStore::Create(const std::string& name) {
  auto id = RandomBase32(kIdLength);
  auto secret = RandomBase32(kSecretLength);
  if (!id.ok() || !secret.ok()) return id.ok() ? secret.status() : id.status();
  CreatedKey created;
  created.info = {*id, name, NowMs(), 0};
  created.key = "ff_" + *id + "_" + *secret;
  std::lock_guard lock(mu_);
  Statement insert(db_, "INSERT INTO api_keys (id, name, hash, created_ms) VALUES (?, ?, ?, ?)",
                   {*id, name, Hash(*secret), std::to_string(created.info.created_ms)});
  if (insert.Step() != SQLITE_DONE) return insert.Error("cannot store key");
  return created;
}

Result<std::vector<ApiKeyInfo>> KeyStore::List() {
  std::lock_guard lock(mu_);
  Statement select(db_, "SELECT id, name, created_ms, revoked_ms FROM api_keys ORDER BY created_ms, id", {});
  std::vector<ApiKeyInfo> keys;
  int rc = 0;
  while ((rc = select.Step()) == SQLITE_ROW) {
    keys.push_back({select.Text(0), select.Text(1), select.Int(2), select.Int(3)});
  }
  if (rc != SQLITE_DONE) return select.Error("cannot list keys");
  return keys;
}

Status KeyStore::Revoke(const std::string& id) {
  std::lock_guard lock(mu_);
  Statement update(db_, "UPDATE api_keys SET revoked_ms = ? WHERE id = ? AND revoked_ms = 0",
                   {std::to_string(NowMs()), id});
  if (update.Step() != SQLITE_DONE) return update.Error("cannot revoke key");
  cache_.erase(id);
  if (sqlite3_changes(db_) > 0) return Status::Ok();
  Statement exists(db_, "SELECT 1 FROM api_keys WHERE id = ?", {id});
  return exists.Step() == SQLITE_ROW ? Status::Ok() : Status(ErrorCode::kNotFound, "no API key with id " + id);
}

Result<std::int64_t> KeyStore::CountActive() {
  std::lock_guard lock(mu_);
  Statement count(db_, "SELECT COUNT(*) FROM api_keys WHERE revoked_ms = 0", {});
  if (count.Step() != SQLITE_ROW) return count.Error("cannot count keys");
  return count.Int(0);
}

Result<std::string> KeyStore::Verify(const std::string& key) {
  const Status denied(ErrorCode::kUnauthenticated, "invalid or revoked API key");
  // "ff_" + id + "_" + secret
  if (key.size() != 3 + kIdLength + 1 + kSecretLength || key.compare(0, 3, "ff_") != 0 || key[3 + kIdLength] != '_') {
    return denied;
  }
  const std::string id = key.substr(3, kIdLength);
  const std::string hash = Hash(key.substr(4 + kIdLength));
  const auto matches = [&](const std::string& stored) {
    return stored.size() == hash.size() && CRYPTO_memcmp(stored.data(), hash.data(), hash.size()) == 0;
  };
  std::lock_guard lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  if (const auto it = cache_.find(id); it != cache_.end() && it->second.expires > now) {
    if (matches(it->second.hash)) return id;
    return denied;
  }
  Statement select(db_, "SELECT hash FROM api_keys WHERE id = ? AND revoked_ms = 0", {id});
  const int rc = select.Step();
  if (rc == SQLITE_DONE) return denied;
  if (rc != SQLITE_ROW) return select.Error("cannot read key database");
  const std::string stored = select.Text(0);
  if (!matches(stored)) return denied;
  cache_[id] = {stored, now + cache_ttl_};
  return id;
}

std::string BearerToken(const std::string& authorization) {
  constexpr std::string_view kPrefix = "Bearer ";
  if (authorization.size() <= kPrefix.size()) return "";
  for (std::size_t i = 0; i < kPrefix.size(); ++i) {  // the scheme is case-insensitive (RFC 7235)
    if (std::tolower(static_cast<unsigned char>(authorization[i])) !=
        std::tolower(static_cast<unsigned char>(kPrefix[i]))) {
      return "";
    }
  }
  std::string token = authorization.substr(kPrefix.size());
  while (!token.empty() && token.back() == ' ') token.pop_back();
  return token;
}

RateLimiter::RateLimiter(double rate, double burst) : rate_(rate), burst_(std::max(1.0, burst)), shards_(kShards) {}

double RateLimiter::Acquire(const std::string& key_id) {
  if (rate_ <= 0) return 0;
  Shard& shard = shards_[std::hash<std::string>{}(key_id) % kShards];
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(shard.mu);
  auto [it, inserted] = shard.buckets.try_emplace(key_id, Bucket{burst_, now});
  Bucket& bucket = it->second;
  const double elapsed = std::chrono::duration<double>(now - bucket.updated).count();
  bucket.tokens = std::min(burst_, bucket.tokens + elapsed * rate_);
  bucket.updated = now;
  if (bucket.tokens >= 1) {
    bucket.tokens -= 1;
    return 0;
  }
  return (1 - bucket.tokens) / rate_;
}

}  // namespace facefleet::http
