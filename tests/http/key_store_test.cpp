// The KeyStore contract (http/auth.hpp) against both stores: SQLite (ctest label unit) and Redis on a
// redis-server this process starts (label contract). "Two instances" are two stores on the same data — two
// processes on one keys.db, or two API replicas on one Redis: a key created through one authenticates through the
// other, and a revocation through one is seen by the other. Then what only the Redis store promises: no secret in
// Redis, 503-style errors while it is down.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "http/auth.hpp"
#include "jobs/redis_server.hpp"
#include "support/temp_dir.hpp"

namespace facefleet::http {
namespace {

using facefleet::testing::RedisServer;
using facefleet::testing::SharedRedisServer;
using facefleet::testing::TempDir;
using std::chrono::milliseconds;

constexpr const char* kPepper = "key-store-test-pepper";

RedisKeyStoreOptions OptionsFor(const RedisServer& server, const std::string& prefix, const std::string& pepper,
                                milliseconds cache_ttl) {
  RedisKeyStoreOptions options;
  options.connection = facefleet::testing::FastFailConnection(server);
  options.prefix = prefix;
  options.pepper = pepper;
  options.cache_ttl = cache_ttl;
  return options;
}

template <typename T>
T Take(Result<T> result, const char* what) {
  EXPECT_TRUE(result.ok()) << what << ": " << result.status().ToString();
  return result.ok() ? std::move(*result) : T{};
}

// ---- The contract ----------------------------------------------------------------------------------------------

struct StoreBackend {
  std::string name;  // test-name suffix
  // A store on the data named by `place` (a fresh directory per test; two calls with one place = two processes
  // on the same data). nullptr = failed (with ADD_FAILURE).
  std::function<std::unique_ptr<KeyStore>(const std::string& place, const std::string& pepper, milliseconds cache_ttl)>
      open;
};

std::string BackendName(const ::testing::TestParamInfo<StoreBackend>& info) { return info.param.name; }
// How gtest prints the parameter (test names in ctest, failure messages).
void PrintTo(const StoreBackend& backend, std::ostream* os) { *os << backend.name; }

class KeyStoreContract : public ::testing::TestWithParam<StoreBackend> {
 protected:
  void SetUp() override {
    store_ = Open();
    ASSERT_NE(store_, nullptr);
  }

  // Another store on this test's data (or, with `place`, on other data).
  std::unique_ptr<KeyStore> Open(milliseconds cache_ttl = milliseconds(0), const std::string& pepper = kPepper,
                                 const std::string& place = "") {
    auto store = GetParam().open(place.empty() ? scratch_.File("store") : place, pepper, cache_ttl);
    EXPECT_NE(store, nullptr);
    return store;
  }

  CreatedKey Create(KeyStore& store, const std::string& name) {
    return Take(store.Create(name), ("Create " + name).c_str());
  }

  TempDir scratch_;
  std::unique_ptr<KeyStore> store_;
};

TEST_P(KeyStoreContract, ACreatedKeyVerifiesAndOthersDoNot) {
  const CreatedKey key = Create(*store_, "ci");
  EXPECT_EQ(key.key.substr(0, 3), "ff_");
  EXPECT_EQ(key.key.size(), 3U + 12 + 1 + 32);
  EXPECT_EQ(key.key.substr(3, 12), key.info.id);
  EXPECT_EQ(key.info.name, "ci");
  EXPECT_GT(key.info.created_ms, 0);
  EXPECT_EQ(key.info.revoked_ms, 0);
  EXPECT_EQ(Take(store_->Verify(key.key), "Verify"), key.info.id);

  std::string wrong_secret = key.key;
  wrong_secret.back() = wrong_secret.back() == 'a' ? 'b' : 'a';
  for (const std::string& bad : {wrong_secret, key.key.substr(0, key.key.size() - 1), std::string("ff_"),
                                 "ff_" + std::string(12, 'a') + "_" + std::string(32, 'a'), std::string()}) {
    Result<std::string> denied = store_->Verify(bad);
    EXPECT_EQ(denied.status().code(), ErrorCode::kUnauthenticated) << bad;
    if (!bad.empty()) {
      EXPECT_EQ(denied.status().message().find(bad), std::string::npos) << "the key was echoed";
    }
  }
}

TEST_P(KeyStoreContract, ListsEveryKeyOldestFirstAndCountsTheActiveOnes) {
  EXPECT_EQ(Take(store_->CountActive(), "CountActive"), 0);
  const CreatedKey a = Create(*store_, "a");
  std::this_thread::sleep_for(milliseconds(2));  // distinct created_ms, so the order is by time
  const CreatedKey b = Create(*store_, "b");
  ASSERT_TRUE(store_->Revoke(a.info.id).ok());
  const std::vector<ApiKeyInfo> keys = Take(store_->List(), "List");
  ASSERT_EQ(keys.size(), 2U);
  EXPECT_EQ(keys[0].id, a.info.id);
  EXPECT_EQ(keys[0].name, "a");
  EXPECT_EQ(keys[0].created_ms, a.info.created_ms);
  EXPECT_GT(keys[0].revoked_ms, 0);
  EXPECT_EQ(keys[1].id, b.info.id);
  EXPECT_EQ(keys[1].revoked_ms, 0);
  EXPECT_EQ(Take(store_->CountActive(), "CountActive"), 1);
}

TEST_P(KeyStoreContract, RevokeDeniesTheKeyAndIsIdempotent) {
  const CreatedKey key = Create(*store_, "ci");
  ASSERT_TRUE(store_->Verify(key.key).ok());
  ASSERT_TRUE(store_->Revoke(key.info.id).ok());
  EXPECT_EQ(store_->Verify(key.key).status().code(), ErrorCode::kUnauthenticated);
  const std::int64_t revoked_ms = Take(store_->List(), "List").at(0).revoked_ms;
  EXPECT_TRUE(store_->Revoke(key.info.id).ok()) << "revoking twice is fine";
  EXPECT_EQ(Take(store_->List(), "List").at(0).revoked_ms, revoked_ms) << "the first revocation time stays";
  EXPECT_EQ(store_->Revoke("nosuchkeyid0").code(), ErrorCode::kNotFound);
}

TEST_P(KeyStoreContract, AKeyCreatedThroughOneInstanceAuthenticatesThroughAnother) {
  auto other = Open();
  ASSERT_NE(other, nullptr);
  const CreatedKey key = Create(*store_, "made-by-one");
  EXPECT_EQ(Take(other->Verify(key.key), "Verify"), key.info.id);
  EXPECT_EQ(Take(other->CountActive(), "CountActive"), 1);
  ASSERT_EQ(Take(other->List(), "List").size(), 1U);
  EXPECT_EQ(Take(other->List(), "List")[0].name, "made-by-one");
}

TEST_P(KeyStoreContract, ARevocationThroughOneInstanceIsSeenByAnother) {
  auto other = Open();  // no cache
  ASSERT_NE(other, nullptr);
  const CreatedKey key = Create(*store_, "ci");
  ASSERT_TRUE(other->Verify(key.key).ok());
  ASSERT_TRUE(store_->Revoke(key.info.id).ok());
  EXPECT_EQ(other->Verify(key.key).status().code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(Take(other->CountActive(), "CountActive"), 0);
}

TEST_P(KeyStoreContract, ACachingInstanceSeesARevocationWithinItsCacheTtl) {
  auto cached = Open(milliseconds(200));
  ASSERT_NE(cached, nullptr);
  const CreatedKey key = Create(*store_, "ci");
  ASSERT_TRUE(cached->Verify(key.key).ok());
  ASSERT_TRUE(store_->Revoke(key.info.id).ok());
  std::this_thread::sleep_for(milliseconds(250));
  EXPECT_EQ(cached->Verify(key.key).status().code(), ErrorCode::kUnauthenticated);
}

TEST_P(KeyStoreContract, AnotherPepperVerifiesNothing) {
  const CreatedKey key = Create(*store_, "ci");
  auto other = Open(milliseconds(0), "another-pepper");
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(other->Verify(key.key).status().code(), ErrorCode::kUnauthenticated);
}

TEST_P(KeyStoreContract, CreateFirstCreatesOnlyWhileNoKeyIsActive) {
  std::optional<CreatedKey> first = Take(store_->CreateFirst("default"), "CreateFirst");
  ASSERT_TRUE(first.has_value());
  EXPECT_TRUE(store_->Verify(first->key).ok());
  EXPECT_FALSE(Take(store_->CreateFirst("default"), "CreateFirst").has_value());
  ASSERT_TRUE(store_->Revoke(first->info.id).ok());
  EXPECT_TRUE(Take(store_->CreateFirst("default"), "CreateFirst").has_value()) << "no active key left";
}

TEST_P(KeyStoreContract, ReplicasStartingAtOnceCreateOneFirstKey) {
  std::vector<std::unique_ptr<KeyStore>> replicas;
  for (int i = 0; i < 4; ++i) replicas.push_back(Open());
  std::atomic<int> created{0};
  {
    std::vector<std::jthread> threads;
    for (auto& replica : replicas) {
      threads.emplace_back([&created, store = replica.get()] {
        if (store == nullptr) return;
        for (int i = 0; i < 3; ++i) {
          Result<std::optional<CreatedKey>> key = store->CreateFirst("default");
          EXPECT_TRUE(key.ok()) << key.status().ToString();
          if (key.ok() && key->has_value()) ++created;
        }
      });
    }
  }
  EXPECT_EQ(created.load(), 1);
  EXPECT_EQ(Take(store_->CountActive(), "CountActive"), 1);
}

TEST_P(KeyStoreContract, ExportedKeysImportIntoAnotherStoreAndKeepWorking) {
  const CreatedKey active = Create(*store_, "active");
  const CreatedKey revoked = Create(*store_, "revoked");
  ASSERT_TRUE(store_->Revoke(revoked.info.id).ok());
  const std::vector<StoredKey> exported = Take(store_->Export(), "Export");
  ASSERT_EQ(exported.size(), 2U);
  EXPECT_EQ(exported[0].hash.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(exported[0].hash.size(), 64U) << "hex HMAC-SHA256";
  EXPECT_EQ(active.key.find(exported[0].hash), std::string::npos);

  auto target = Open(milliseconds(0), kPepper, scratch_.File("elsewhere"));
  ASSERT_NE(target, nullptr);
  for (const StoredKey& key : exported) EXPECT_TRUE(target->Import(key).ok());
  EXPECT_EQ(target->Import(exported[0]).code(), ErrorCode::kConflict) << "an id that exists is not overwritten";
  EXPECT_EQ(Take(target->Verify(active.key), "Verify"), active.info.id);
  EXPECT_EQ(target->Verify(revoked.key).status().code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(Take(target->CountActive(), "CountActive"), 1);
  const std::vector<ApiKeyInfo> listed = Take(target->List(), "List");
  ASSERT_EQ(listed.size(), 2U);
  EXPECT_EQ(listed[1].revoked_ms, Take(store_->List(), "List")[1].revoked_ms);
}

StoreBackend SqliteBackend() {
  return {.name = "sqlite",
          .open = [](const std::string& place, const std::string& pepper,
                     milliseconds cache_ttl) -> std::unique_ptr<KeyStore> {
            Result<std::unique_ptr<KeyStore>> store = OpenSqliteKeyStore(place + ".db", pepper, cache_ttl);
            if (!store.ok()) ADD_FAILURE() << store.status().ToString();
            return store.ok() ? std::move(*store) : nullptr;
          }};
}

StoreBackend RedisBackend() {
  return {.name = "redis",
          .open = [](const std::string& place, const std::string& pepper,
                     milliseconds cache_ttl) -> std::unique_ptr<KeyStore> {
            if (!SharedRedisServer().ok()) {
              ADD_FAILURE() << "redis-server: " << SharedRedisServer().error();
              return nullptr;
            }
            // Scratch paths are unique per test: as a prefix they keep the cases' keys apart.
            Result<std::unique_ptr<KeyStore>> store =
                OpenRedisKeyStore(OptionsFor(SharedRedisServer(), place + ":", pepper, cache_ttl));
            if (!store.ok()) ADD_FAILURE() << store.status().ToString();
            return store.ok() ? std::move(*store) : nullptr;
          }};
}

INSTANTIATE_TEST_SUITE_P(Sqlite, KeyStoreContract, ::testing::Values(SqliteBackend()), BackendName);
INSTANTIATE_TEST_SUITE_P(Redis, KeyStoreContract, ::testing::Values(RedisBackend()), BackendName);

// ---- Redis only ------------------------------------------------------------------------------------------------

TEST(RedisKeyStoreTest, RedisHoldsTheHashNeverTheSecret) {
  ASSERT_TRUE(SharedRedisServer().ok()) << SharedRedisServer().error();
  const std::string prefix = "ks" + std::to_string(getpid()) + "-layout:";
  auto store = Take(OpenRedisKeyStore(OptionsFor(SharedRedisServer(), prefix, kPepper, milliseconds(0))), "open");
  ASSERT_NE(store, nullptr);
  const CreatedKey key = Take(store->Create("ci"), "Create");
  const std::string secret = key.key.substr(4 + 12);
  const std::vector<std::string> hash = SharedRedisServer().Query({"HGETALL", prefix + "apikey:" + key.info.id});
  ASSERT_EQ(hash.size(), 8U) << "name, hash, created_ms, revoked_ms";
  for (const std::string& value : hash) EXPECT_EQ(value.find(secret), std::string::npos) << "the secret is stored";
  EXPECT_EQ(SharedRedisServer().Query({"SISMEMBER", prefix + "apikeys:active", key.info.id}),
            std::vector<std::string>{"1"});
  EXPECT_EQ(SharedRedisServer().Query({"ZSCORE", prefix + "apikeys", key.info.id}),
            std::vector<std::string>{std::to_string(key.info.created_ms)});
  EXPECT_EQ(SharedRedisServer().Query({"PTTL", prefix + "apikey:" + key.info.id}), std::vector<std::string>{"-1"})
      << "keys never expire";
}

TEST(RedisKeyStoreTest, AnUnreachableRedisIsUnavailableNotUnauthenticated) {
  RedisServer server;
  ASSERT_TRUE(server.ok()) << server.error();
  auto store = Take(OpenRedisKeyStore(OptionsFor(server, "down:", kPepper, milliseconds(0))), "open");
  ASSERT_NE(store, nullptr);
  const CreatedKey key = Take(store->Create("ci"), "Create");
  server.Stop(/*crash=*/false);
  EXPECT_EQ(store->Verify(key.key).status().code(), ErrorCode::kUnavailable) << "a valid key must not read as 401";
  EXPECT_EQ(store->Create("x").status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(store->Revoke(key.info.id).code(), ErrorCode::kUnavailable);
  ASSERT_TRUE(server.Start()) << server.error();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  Result<std::string> verified = store->Verify(key.key);
  while (!verified.ok() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(20));
    verified = store->Verify(key.key);
  }
  EXPECT_TRUE(verified.ok()) << verified.status().ToString() << " (the key survives a restart: AOF)";
}

}  // namespace
}  // namespace facefleet::http
