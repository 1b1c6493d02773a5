// The Redis KeyStore (http/auth.hpp): keys shared by every API replica of a fleet, on the shared Redis client
// (redis/client.hpp). Writes that check something first (Insert, MarkRevoked) are Lua scripts, so the check and
// the write are atomic however many replicas run them at once. Reads are single commands.
//
// Keys (prefix P):
//   P apikey:<id>      hash: name, hash (hex HMAC of the secret; never the secret), created_ms, revoked_ms
//   P apikeys          zset id -> created_ms: List and Export, oldest first (ties by id, as Redis orders them)
//   P apikeys:active   set of active ids: CountActive is one SCARD, CreateFirst one check
// Nothing here expires. Like the job queue, the keys need Redis persistence (AOF) and maxmemory-policy
// noeviction: an evicted or lost key hash makes that key 401 until it is created again.
#include <charconv>
#include <utility>

#include "http/auth.hpp"
#include "redis/client.hpp"

namespace facefleet::http {
namespace {

using redis::Reply;

// KEYS[1] key hash, [2] zset of all keys, [3] set of active keys.
// ARGV[1] id, [2] name, [3] hash, [4] created_ms, [5] revoked_ms, [6] '1' = only if no active key exists.
// Returns 1 (stored), 0 (an active key exists) or -1 (the id is taken).
constexpr const char* kInsert = R"lua(
if ARGV[6] == '1' and redis.call('SCARD', KEYS[3]) > 0 then return 0 end
if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
redis.call('HSET', KEYS[1], 'name', ARGV[2], 'hash', ARGV[3], 'created_ms', ARGV[4], 'revoked_ms', ARGV[5])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
if ARGV[5] == '0' then redis.call('SADD', KEYS[3], ARGV[1]) end
return 1
)lua";

// KEYS[1] key hash, [2] set of active keys. ARGV[1] id, [2] revoked_ms. Returns 1, or 0 for an unknown id.
constexpr const char* kRevoke = R"lua(
local revoked = redis.call('HGET', KEYS[1], 'revoked_ms')
if not revoked then return 0 end
if revoked == '0' then redis.call('HSET', KEYS[1], 'revoked_ms', ARGV[2]) end
redis.call('SREM', KEYS[2], ARGV[1])
return 1
)lua";

// KEYS[1] zset of all keys. ARGV[1] prefix. Returns {id, name, hash, created_ms, revoked_ms} per key, oldest
// first, in one round trip. The key hashes are named from the prefix, as the job queue's scripts do (one shard).
constexpr const char* kExport = R"lua(
local out = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local h = redis.call('HMGET', ARGV[1] .. 'apikey:' .. id, 'name', 'hash', 'created_ms', 'revoked_ms')
  if h[2] then out[#out + 1] = {id, h[1] or '', h[2], h[3] or '0', h[4] or '0'} end
end
return out
)lua";

std::int64_t ToInt(std::string_view text) {
  std::int64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

Status Unexpected(std::string_view what) {
  return {ErrorCode::kInternal, "redis key store " + std::string(what) +
                                    ": unexpected reply (is another program using the key store's keys?)"};
}

class RedisKeyStore final : public KeyStore {
 public:
  explicit RedisKeyStore(const RedisKeyStoreOptions& options)
      : KeyStore(options.pepper, options.cache_ttl),
        prefix_(options.prefix),
        pool_(options.connection),
        insert_(kInsert),
        revoke_(kRevoke),
        export_(kExport) {}

  Status Load() {
    if (Status s = pool_.Probe(); !s.ok()) return s;
    for (const redis::Script* script : {&insert_, &revoke_, &export_}) {
      if (Status s = script->Load(pool_); !s.ok()) return s;
    }
    return Status::Ok();
  }

  Result<std::int64_t> CountActive() override;
  Result<std::vector<StoredKey>> Export() override;

 protected:
  Result<InsertOutcome> Insert(const StoredKey& key, bool only_if_none_active) override;
  Status MarkRevoked(const std::string& id, std::int64_t revoked_ms) override;
  Result<std::optional<std::string>> ActiveHash(const std::string& id) override;

 private:
  std::string KeyHash(const std::string& id) const { return prefix_ + "apikey:" + id; }
  std::string AllKeys() const { return prefix_ + "apikeys"; }
  std::string ActiveKeys() const { return prefix_ + "apikeys:active"; }

  const std::string prefix_;
  redis::Pool pool_;  // thread-safe; each call borrows a connection
  const redis::Script insert_;
  const redis::Script revoke_;
  const redis::Script export_;
};

Result<std::vector<StoredKey>> RedisKeyStore::Export() {
  Result<Reply> reply = export_.Run(pool_, {AllKeys()}, {prefix_});
  if (!reply.ok()) return reply.status();
  const redisReply& rows = **reply;
  if (rows.type != REDIS_REPLY_ARRAY) return Unexpected("list");
  std::vector<StoredKey> keys;
  keys.reserve(rows.elements);
  for (std::size_t i = 0; i < rows.elements; ++i) {
    const redisReply& row = *rows.element[i];
    if (row.type != REDIS_REPLY_ARRAY || row.elements != 5) return Unexpected("list");
    const auto at = [&](std::size_t j) { return std::string(redis::Text(*row.element[j])); };
    keys.push_back({{at(0), at(1), ToInt(at(3)), ToInt(at(4))}, at(2)});
  }
  return keys;
}

Result<std::int64_t> RedisKeyStore::CountActive() {
  Result<Reply> reply = pool_.Run({"SCARD", ActiveKeys()});
  if (!reply.ok()) return reply.status();
  if ((*reply)->type == REDIS_REPLY_ERROR) return redis::ErrorReply(**reply, "SCARD");
  if ((*reply)->type != REDIS_REPLY_INTEGER) return Unexpected("SCARD");
  return static_cast<std::int64_t>((*reply)->integer);
}

Result<KeyStore::InsertOutcome> RedisKeyStore::Insert(const StoredKey& key, bool only_if_none_active) {
  Result<Reply> reply = insert_.Run(pool_, {KeyHash(key.info.id), AllKeys(), ActiveKeys()},
                                    {key.info.id, key.info.name, key.hash, std::to_string(key.info.created_ms),
                                     std::to_string(key.info.revoked_ms), only_if_none_active ? "1" : "0"});
  if (!reply.ok()) return reply.status();
  if ((*reply)->type != REDIS_REPLY_INTEGER) return Unexpected("insert");
  switch ((*reply)->integer) {
    case 1:
      return InsertOutcome::kInserted;
    case 0:
      return InsertOutcome::kActiveKeyExists;
    default:
      return InsertOutcome::kIdTaken;
  }
}

Status RedisKeyStore::MarkRevoked(const std::string& id, std::int64_t revoked_ms) {
  Result<Reply> reply = revoke_.Run(pool_, {KeyHash(id), ActiveKeys()}, {id, std::to_string(revoked_ms)});
  if (!reply.ok()) return reply.status();
  if ((*reply)->type != REDIS_REPLY_INTEGER) return Unexpected("revoke");
  return (*reply)->integer == 1 ? Status::Ok() : Status(ErrorCode::kNotFound, "no API key with id " + id);
}

Result<std::optional<std::string>> RedisKeyStore::ActiveHash(const std::string& id) {
  Result<Reply> reply = pool_.Run({"HMGET", KeyHash(id), "hash", "revoked_ms"});
  if (!reply.ok()) return reply.status();
  const redisReply& fields = **reply;
  if (fields.type == REDIS_REPLY_ERROR) return redis::ErrorReply(fields, "HMGET");
  if (fields.type != REDIS_REPLY_ARRAY || fields.elements != 2) return Unexpected("HMGET");
  const redisReply& hash = *fields.element[0];
  const redisReply& revoked = *fields.element[1];
  if (hash.type != REDIS_REPLY_STRING || redis::Text(revoked) != "0") return std::optional<std::string>();
  return std::optional<std::string>(std::string(redis::Text(hash)));
}

}  // namespace

Result<std::unique_ptr<KeyStore>> OpenRedisKeyStore(const RedisKeyStoreOptions& options) {
  if (options.prefix.empty()) {
    return Status(ErrorCode::kUsage, "the redis key prefix must not be empty (it keeps the key store's keys apart)");
  }
  auto store = std::make_unique<RedisKeyStore>(options);
  if (Status s = store->Load(); !s.ok()) return s;
  return std::unique_ptr<KeyStore>(std::move(store));
}

}  // namespace facefleet::http
