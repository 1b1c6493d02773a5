// KeyStore's store-independent part: key format, hashing, the verified-key cache; BearerToken. The stores are
// key_store_sqlite.cpp and key_store_redis.cpp.
#include "http/auth.hpp"

#include <array>
#include <cctype>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "core/hex.hpp"

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

Status IdTaken(const std::string& id) { return {ErrorCode::kConflict, "an API key with id " + id + " exists"}; }

}  // namespace

KeyStore::KeyStore(std::string pepper, std::chrono::milliseconds cache_ttl)
    : pepper_(std::move(pepper)), cache_ttl_(cache_ttl) {}

std::string KeyStore::Hash(const std::string& secret) const {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), pepper_.data(), static_cast<int>(pepper_.size()),
       reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), digest.data(), &length);
  return core::HexLower(digest.data(), length);
}

Result<CreatedKey> KeyStore::NewKey(const std::string& name, StoredKey& stored) const {
  auto id = RandomBase32(kIdLength);
  auto secret = RandomBase32(kSecretLength);
  if (!id.ok() || !secret.ok()) return id.ok() ? secret.status() : id.status();
  CreatedKey created;
  created.info = {*id, name, NowMs(), 0};
  created.key = "ff_" + *id + "_" + *secret;
  stored = {created.info, Hash(*secret)};
  return created;
}

Result<CreatedKey> KeyStore::Create(const std::string& name) {
  StoredKey stored;
  Result<CreatedKey> created = NewKey(name, stored);
  if (!created.ok()) return created;
  Result<InsertOutcome> outcome = Insert(stored, false);
  if (!outcome.ok()) return outcome.status();
  // 60 random bits: a taken id means a broken random source, not bad luck.
  if (*outcome != InsertOutcome::kInserted) return IdTaken(stored.info.id);
  return created;
}

Result<std::optional<CreatedKey>> KeyStore::CreateFirst(const std::string& name) {
  StoredKey stored;
  Result<CreatedKey> created = NewKey(name, stored);
  if (!created.ok()) return created.status();
  Result<InsertOutcome> outcome = Insert(stored, true);
  if (!outcome.ok()) return outcome.status();
  if (*outcome == InsertOutcome::kActiveKeyExists) return std::optional<CreatedKey>();
  if (*outcome == InsertOutcome::kIdTaken) return IdTaken(stored.info.id);
  return std::optional<CreatedKey>(std::move(*created));
}

Status KeyStore::Revoke(const std::string& id) {
  Status status = MarkRevoked(id, NowMs());
  std::lock_guard lock(cache_mu_);
  cache_.erase(id);
  return status;
}

Result<std::vector<ApiKeyInfo>> KeyStore::List() {
  Result<std::vector<StoredKey>> keys = Export();
  if (!keys.ok()) return keys.status();
  std::vector<ApiKeyInfo> out;
  out.reserve(keys->size());
  for (StoredKey& key : *keys) out.push_back(std::move(key.info));
  return out;
}

Status KeyStore::Import(const StoredKey& key) {
  Result<InsertOutcome> outcome = Insert(key, false);
  if (!outcome.ok()) return outcome.status();
  return *outcome == InsertOutcome::kInserted ? Status::Ok() : IdTaken(key.info.id);
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
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(cache_mu_);
    if (const auto it = cache_.find(id); it != cache_.end() && it->second.expires > now) {
      if (matches(it->second.hash)) return id;
      return denied;
    }
  }
  Result<std::optional<std::string>> stored = ActiveHash(id);
  if (!stored.ok()) return stored.status();
  if (!stored->has_value() || !matches(**stored)) return denied;
  if (cache_ttl_.count() > 0) {
    std::lock_guard lock(cache_mu_);
    cache_[id] = {std::move(**stored), now + cache_ttl_};
  }
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

}  // namespace facefleet::http
