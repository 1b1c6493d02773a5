// The Storage contract (see storage_contract.hpp): what every backend guarantees to the job service.
#include "storage/storage_contract.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace facefleet::storage::contract {
namespace {

constexpr std::uint64_t kToEnd = UINT64_MAX;

// FNV-1a, 64 bit: enough to tell two multi-megabyte streams apart without keeping both in memory.
class Fnv1a {
 public:
  void Update(std::string_view bytes) {
    for (const char c : bytes) {
      hash_ ^= static_cast<unsigned char>(c);
      hash_ *= 0x100000001b3ULL;
    }
  }
  std::uint64_t value() const { return hash_; }

 private:
  std::uint64_t hash_ = 0xcbf29ce484222325ULL;
};

// Deterministic pseudo-random bytes (xorshift64), so a failing run can be reproduced.
std::string PseudoRandomBytes(std::size_t size, std::uint64_t seed) {
  std::string out(size, '\0');
  std::uint64_t state = seed | 1;
  for (char& c : out) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    c = static_cast<char>(state & 0xff);
  }
  return out;
}

struct ReadResult {
  Status status;
  std::string bytes;
  int calls = 0;
};

ReadResult ReadRange(Storage& store, const std::string& key, std::uint64_t offset, std::uint64_t length) {
  ReadResult result;
  result.status = store.Read(key, offset, length, [&result](std::string_view bytes) {
    result.bytes.append(bytes);
    ++result.calls;
    return true;
  });
  return result;
}

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::vector<std::string> Keys(const std::vector<ObjectInfo>& objects) {
  std::vector<std::string> keys;
  keys.reserve(objects.size());
  for (const ObjectInfo& object : objects) keys.push_back(object.key);
  return keys;
}

void PutOrFail(Storage& store, const std::string& key, std::string_view bytes) {
  const Result<ObjectInfo> put = store.Put(key, bytes, "application/octet-stream");
  ASSERT_TRUE(put.ok()) << key << ": " << put.status().ToString();
}

}  // namespace

void StorageContractTest::SetUp() {
  storage_ = GetParam().open(scratch_.path().string());
  ASSERT_NE(storage_, nullptr) << "backend '" << GetParam().name << "' could not be opened";
}

TEST_P(StorageContractTest, PutGetStatRoundTrip) {
  const std::int64_t before = NowMs();
  const Result<ObjectInfo> put = store().Put("jobs/j1/input.png", "hello storage", "image/png");
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(put->key, "jobs/j1/input.png");
  EXPECT_EQ(put->size, 13U);

  const Result<std::string> got = store().Get("jobs/j1/input.png");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, "hello storage");

  const Result<ObjectInfo> stat = store().Stat("jobs/j1/input.png");
  ASSERT_TRUE(stat.ok()) << stat.status().ToString();
  EXPECT_EQ(stat->key, "jobs/j1/input.png");
  EXPECT_EQ(stat->size, 13U);
  // Generous bounds: remote stores have their own clocks (and some only keep whole seconds).
  constexpr std::int64_t kSkewMs = 10 * 60 * 1000;
  EXPECT_GT(stat->modified_ms, before - kSkewMs);
  EXPECT_LT(stat->modified_ms, NowMs() + kSkewMs);
}

TEST_P(StorageContractTest, EmptyObject) {
  ASSERT_NO_FATAL_FAILURE(PutOrFail(store(), "jobs/j1/empty", ""));
  const Result<ObjectInfo> stat = store().Stat("jobs/j1/empty");
  ASSERT_TRUE(stat.ok()) << stat.status().ToString();
  EXPECT_EQ(stat->size, 0U);
  const ReadResult read = ReadRange(store(), "jobs/j1/empty", 0, kToEnd);
  ASSERT_TRUE(read.status.ok()) << read.status.ToString();
  EXPECT_EQ(read.bytes, "");
}

TEST_P(StorageContractTest, BinaryBytesWithNuls) {
  std::string bytes;
  for (int round = 0; round < 4; ++round) {
    for (int b = 0; b < 256; ++b) bytes += static_cast<char>(b);
  }
  bytes += std::string(100, '\0');
  ASSERT_NO_FATAL_FAILURE(PutOrFail(store(), "jobs/j1/binary.bin", bytes));
  const Result<std::string> got = store().Get("jobs/j1/binary.bin");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->size(), bytes.size());
  EXPECT_TRUE(*got == bytes);
}

TEST_P(StorageContractTest, StreamingWriterWithManyAppends) {
  constexpr std::size_t kChunk = 64 * 1024;
  constexpr std::size_t kTotal = 20 * 1024 * 1024;
  Result<std::unique_ptr<Writer>> writer = store().OpenWriter("jobs/j2/result.mp4", "video/mp4");
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  Fnv1a written;
  for (std::size_t offset = 0; offset < kTotal; offset += kChunk) {
    const std::string chunk = PseudoRandomBytes(kChunk, offset + 1);
    written.Update(chunk);
    const Status append = (*writer)->Append(chunk);
    ASSERT_TRUE(append.ok()) << append.ToString();
  }
  const Result<ObjectInfo> committed = (*writer)->Commit();
  ASSERT_TRUE(committed.ok()) << committed.status().ToString();
  EXPECT_EQ(committed->size, kTotal);

  Fnv1a read;
  std::uint64_t read_bytes = 0;
  const Status status = store().Read("jobs/j2/result.mp4", 0, kToEnd, [&](std::string_view bytes) {
    read.Update(bytes);
    read_bytes += bytes.size();
    return true;
  });
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(read_bytes, kTotal);
  EXPECT_EQ(read.value(), written.value());
  const Result<ObjectInfo> stat = store().Stat("jobs/j2/result.mp4");
  ASSERT_TRUE(stat.ok());
  EXPECT_EQ(stat->size, kTotal);
}

TEST_P(StorageContractTest, OverwriteReplacesWholeObject) {
  ASSERT_NO_FATAL_FAILURE(PutOrFail(store(), "jobs/j1/meta.json", std::string(1000, 'a')));
  ASSERT_NO_FATAL_FAILURE(PutOrFail(store(), "jobs/j1/meta.json", "short"));
  const Result<std::string> got = store().Get("jobs/j1/meta.json");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, "short");
  const Result<std::vector<ObjectInfo>> listed = store().List("jobs/j1/");
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(Keys(*listed), std::vector<std::string>{"jobs/j1/meta.json"});
}

TEST_P(StorageContractTest, OverwriteIsInvisibleUntilCommit) {
  ASSERT_NO_FATAL_FAILURE(PutOrFail(store(), "jobs/j1/out.png", "old"));
  Result<std::unique_ptr<Writer>> writer = store().OpenWriter("jobs/j1/out.png", "image/png");
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  ASSERT_TRUE((*writer)->Append("new contents, part one; ").ok());
  ASSERT_TRUE((*writer)->Append(std::string(300 * 1024, 'n')).ok());
  EXPECT_EQ(store().Get("jobs/j1/out.png").value(), "old");
  ASSERT_TRUE((*writer)->Commit().ok());
  const Result<std::string> got = store().Get("jobs/j1/out.png");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->size(), 24U + 300U * 1024U);
  EXPECT_TRUE(got->starts_with("new contents, part one; nnn"));
}

// A reader racing with replacements sees one whole version, never a mix or a truncated object.
TEST_P(StorageContractTest, ReadersNeverSeePartialReplacement) {
  const std::string version_a(256 * 1024, 'a');
  const std::string version_b(128 * 1024, 'b');
  ASSERT_NO_FATAL_FAILURE(PutOrFail(store(), "jobs/race/object", version_a));
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int i = 0; i < 40; ++i) {
      EXPECT_TRUE(store().Put("jobs/race/object", i % 2 == 0 ? version_b : version_a, "text/plain").ok());
    }
    done = true;
  });
  int reads = 0;
  while (!done || reads == 0) {
    const Result<std::string> got = store().Get("jobs/race/object");
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    const bool whole_a = *got == version_a;
    const bool whole_b = *got == version_b;
    EXPECT_TRUE(whole_a || whole_b) << "read a partial object of " << got->size() << " bytes";
    ++reads;
  }
  writer.join();
}

TEST_P(StorageContractTest, UncommittedWriterLeavesNothing) {
  {
    Result<std::unique_ptr<Writer>> writer = store().OpenWriter("jobs/j3/dropped", "text/plain");
    ASSERT_TRUE(writer.ok()) << writer.status().ToString();
    ASSERT_TRUE((*writer)->Append(std::string(512 * 1024, 'x')).ok());
  }  // destroyed without Commit
  EXPECT_EQ(store().Stat("jobs/j3/dropped").status().code(), ErrorCode::kNotFound);

  Result<std::unique_ptr<Writer>> aborted = store().OpenWriter("jobs/j3/aborted", "text/plain");
  ASSERT_TRUE(aborted.ok());
  ASSERT_TRUE((*aborted)->Append("partial").ok());
  (*aborted)->Abort();
  EXPECT_EQ(store().Stat("jobs/j3/aborted").status().code(), ErrorCode::kNotFound);
  EXPECT_FALSE((*aborted)->Append("more").ok());
  EXPECT_FALSE((*aborted)->Commit().ok());
  aborted->reset();

  const Result<std::vector<ObjectInfo>> listed = store().List("jobs/j3/");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_TRUE(listed->empty()) << listed->front().key;
}

TEST_P(StorageContractTest, AbortedOverwriteKeepsOldObject) {
  ASSERT_NO_FATAL_FAILURE(PutOrFail(store(), "jobs/j3/keep", "original"));
  Result<std::unique_ptr<Writer>> writer = store().OpenWriter("jobs/j3/keep", "text/plain");
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Append("replacement").ok());
  (*writer)->Abort();
  EXPECT_EQ(store().Get("jobs/j3/keep").value(), "original");
}

TEST_P(StorageContractTest, WriterIsDoneAfterCommit) {
  Result<std::unique_ptr<Writer>> writer = store().OpenWriter("jobs/j3/once", "text/plain");
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Append("one").ok());
  ASSERT_TRUE((*writer)->Commit().ok());
  EXPECT_FALSE((*writer)->Append("two").ok());
  EXPECT_FALSE((*writer)->Commit().ok());
  (*writer)->Abort();  // no effect on the committed object
  EXPECT_EQ(store().Get("jobs/j3/once").value(), "one");
}

TEST_P(StorageContractTest, RangeReads) {
  std::string bytes;
  for (int i = 0; i < 1000; ++i) bytes += static_cast<char>('a' + i % 26);
  ASSERT_NO_FATAL_FAILURE(PutOrFail(store(), "jobs/j4/range", bytes));
  const struct {
    std::uint64_t offset;
    std::uint64_t length;
    std::string expected;
  } cases[] = {
      {0, 10, bytes.substr(0, 10)},
      {500, 100, bytes.substr(500, 100)},
      {990, 10, bytes.substr(990)},
      {995, 100, bytes.substr(995)},
      {400, kToEnd, bytes.substr(400)},
      {0, kToEnd, bytes},
      {1000, 10, ""},
      {10, 0, ""},
  };
  for (const auto& c : cases) {
    const ReadResult read = ReadRange(store(), "jobs/j4/range", c.offset, c.length);
    ASSERT_TRUE(read.status.ok()) << "offset " << c.offset << ": " << read.status.ToString();
    EXPECT_EQ(read.bytes, c.expected) << "offset " << c.offset << " length " << c.length;
  }
  const ReadResult past = ReadRange(store(), "jobs/j4/range", 1001, 1);
  EXPECT_EQ(past.status.code(), ErrorCode::kInvalidRequest) << past.status.ToString();
  EXPECT_EQ(past.calls, 0);
}

TEST_P(StorageContractTest, SinkStopsReadEarly) {
  ASSERT_NO_FATAL_FAILURE(PutOrFail(store(), "jobs/j4/big", PseudoRandomBytes(1024 * 1024, 7)));
  int calls = 0;
  const Status status = store().Read("jobs/j4/big", 0, kToEnd, [&calls](std::string_view bytes) {
    EXPECT_FALSE(bytes.empty());
    ++calls;
    return false;
  });
  EXPECT_EQ(status.code(), ErrorCode::kCanceled) << status.ToString();
  EXPECT_EQ(calls, 1);
}

TEST_P(StorageContractTest, MissingKeyIsNotFound) {
  ASSERT_NO_FATAL_FAILURE(PutOrFail(store(), "jobs/j5/present", "x"));
  for (const std::string key : {"jobs/j5/absent", "jobs/nothing/here", "absent"}) {
    EXPECT_EQ(ReadRange(store(), key, 0, kToEnd).status.code(), ErrorCode::kNotFound) << key;
    EXPECT_EQ(store().Stat(key).status().code(), ErrorCode::kNotFound) << key;
    EXPECT_EQ(store().Get(key).status().code(), ErrorCode::kNotFound) << key;
    EXPECT_EQ(store().LocalPath(key, local_dir()).status().code(), ErrorCode::kNotFound) << key;
  }
  // A prefix of existing objects is not an object.
  EXPECT_EQ(store().Stat("jobs/j5").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(ReadRange(store(), "jobs/j5", 0, kToEnd).status.code(), ErrorCode::kNotFound);
}

TEST_P(StorageContractTest, DeleteIsIdempotent) {
  EXPECT_TRUE(store().Delete("jobs/j6/never").ok());
  ASSERT_NO_FATAL_FAILURE(PutOrFail(store(), "jobs/j6/object", "x"));
  ASSERT_NO_FATAL_FAILURE(PutOrFail(store(), "jobs/j6/sibling", "y"));
  const Status deleted = store().Delete("jobs/j6/object");
  EXPECT_TRUE(deleted.ok()) << deleted.ToString();
  EXPECT_EQ(store().Stat("jobs/j6/object").status().code(), ErrorCode::kNotFound);
  EXPECT_TRUE(store().Delete("jobs/j6/object").ok());
  EXPECT_EQ(store().Get("jobs/j6/sibling").value(), "y");
}

TEST_P(StorageContractTest, DeletePrefixRemovesOnlyThatPrefix) {
  for (const std::string key :
       {"jobs/a/input.png", "jobs/a/frames/0001.png", "jobs/ab/input.png", "jobs/b/x", "jobs/a-1/x", "jobsa/x"}) {
    ASSERT_NO_FATAL_FAILURE(PutOrFail(store(), key, key));
  }
  const Status status = store().DeletePrefix("jobs/a/");
  ASSERT_TRUE(status.ok()) << status.ToString();
  const Result<std::vector<ObjectInfo>> listed = store().List("");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_EQ(Keys(*listed), (std::vector<std::string>{"jobs/a-1/x", "jobs/ab/input.png", "jobs/b/x", "jobsa/x"}));
  EXPECT_EQ(store().Stat("jobs/a/input.png").status().code(), ErrorCode::kNotFound);
  EXPECT_TRUE(store().DeletePrefix("jobs/a/").ok());
  EXPECT_TRUE(store().DeletePrefix("jobs/never/").ok());
  // The prefix of an object's own key ("jobs/b/x/") holds nothing; the object stays.
  EXPECT_TRUE(store().DeletePrefix("jobs/b/x/").ok());
  EXPECT_EQ(store().Get("jobs/b/x").value(), "jobs/b/x");
  // A new object under a deleted prefix works.
  ASSERT_NO_FATAL_FAILURE(PutOrFail(store(), "jobs/a/again", "1"));
}

TEST_P(StorageContractTest, ListIsSortedAndPrefixScoped) {
  // Written out of order; byte order puts '-' < '.' < '/' < digits < letters.
  const std::vector<std::string> keys = {"jobs/a/z", "jobs/a0/x",  "jobs/a/b/c", "jobs/a-b/y",
                                         "jobs/a/a", "jobs/a.b/w", "jobs/b/x",   "other/x"};
  for (std::size_t i = 0; i < keys.size(); ++i) {
    ASSERT_NO_FATAL_FAILURE(PutOrFail(store(), keys[i], std::string(i + 1, 'x')));
  }
  const Result<std::vector<ObjectInfo>> jobs = store().List("jobs/");
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  EXPECT_EQ(Keys(*jobs), (std::vector<std::string>{"jobs/a-b/y", "jobs/a.b/w", "jobs/a/a", "jobs/a/b/c", "jobs/a/z",
                                                   "jobs/a0/x", "jobs/b/x"}));
  for (const ObjectInfo& object : *jobs) {
    const auto index = static_cast<std::size_t>(std::find(keys.begin(), keys.end(), object.key) - keys.begin());
    EXPECT_EQ(object.size, index + 1) << object.key;
    EXPECT_GT(object.modified_ms, 0) << object.key;
  }
  const Result<std::vector<ObjectInfo>> a = store().List("jobs/a/");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(Keys(*a), (std::vector<std::string>{"jobs/a/a", "jobs/a/b/c", "jobs/a/z"}));
  const Result<std::vector<ObjectInfo>> all = store().List("");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), keys.size());
  const Result<std::vector<ObjectInfo>> none = store().List("jobs/none/");
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_TRUE(none->empty());
}

TEST_P(StorageContractTest, InvalidKeysAreRefused) {
  const std::vector<std::string> bad_keys = {"",     "/a",          "a/",    "a//b",
                                             "../x", "a/../b",      "A",     "a b",
                                             "a\\b", "a/./b",       ".",     "..",
                                             "a/.",  "jobs/Ab",     "a\nb",  std::string("a\0b", 3),
                                             "a:b",  "a/.tmp-1234", "a%2fb", std::string(600, 'k')};
  for (const std::string& key : bad_keys) {
    SCOPED_TRACE("key '" + key + "'");
    EXPECT_EQ(ValidateKey(key).code(), ErrorCode::kInvalidRequest);
    const Result<ObjectInfo> put = store().Put(key, "x", "text/plain");
    EXPECT_EQ(put.status().code(), ErrorCode::kInvalidRequest);
    EXPECT_EQ(store().OpenWriter(key, "text/plain").status().code(), ErrorCode::kInvalidRequest);
    EXPECT_EQ(ReadRange(store(), key, 0, kToEnd).status.code(), ErrorCode::kInvalidRequest);
    EXPECT_EQ(store().Stat(key).status().code(), ErrorCode::kInvalidRequest);
    EXPECT_EQ(store().Delete(key).code(), ErrorCode::kInvalidRequest);
    EXPECT_EQ(store().LocalPath(key, local_dir()).status().code(), ErrorCode::kInvalidRequest);
    EXPECT_EQ(store().PresignGet(key, std::chrono::hours(1)).status().code(), ErrorCode::kInvalidRequest);
  }
  // The message names the key so a log line leads to the caller.
  EXPECT_NE(store().Stat("a//b").status().message().find("a//b"), std::string::npos);
  // Nothing was created by any of the attempts.
  const Result<std::vector<ObjectInfo>> all = store().List("");
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->empty());
}

TEST_P(StorageContractTest, InvalidPrefixesAreRefused) {
  for (const std::string prefix : {"/", "jobs", "jobs//", "/jobs/", "../", "jobs/../", "Jobs/", "jobs/./"}) {
    SCOPED_TRACE("prefix '" + prefix + "'");
    EXPECT_EQ(store().DeletePrefix(prefix).code(), ErrorCode::kInvalidRequest);
    EXPECT_EQ(store().List(prefix).status().code(), ErrorCode::kInvalidRequest);
  }
  // Deleting "everything" needs a prefix: "" is refused there (List("") lists all).
  EXPECT_EQ(store().DeletePrefix("").code(), ErrorCode::kInvalidRequest);
}

// (No key here is a prefix of another: the filesystem backend cannot hold both "a" and "a/b".)
TEST_P(StorageContractTest, ValidKeysAreAccepted) {
  const std::vector<std::string> good_keys = {
      "a",   "jobs/0123/input.png", "x/y/z/w", "a.b-c_d",
      "...", "b/.hidden",           "-/_",     std::string(250, 'k') + "/" + std::string(250, 'v')};
  for (const std::string& key : good_keys) {
    SCOPED_TRACE("key '" + key + "'");
    EXPECT_TRUE(ValidateKey(key).ok()) << ValidateKey(key).ToString();
    ASSERT_NO_FATAL_FAILURE(PutOrFail(store(), key, key));
    EXPECT_EQ(store().Get(key).value(), key);
  }
}

TEST_P(StorageContractTest, LocalPathHoldsObjectBytes) {
  const std::string bytes = PseudoRandomBytes(100 * 1024, 3);
  ASSERT_NO_FATAL_FAILURE(PutOrFail(store(), "jobs/j7/input.jpg", bytes));
  const Result<std::string> path = store().LocalPath("jobs/j7/input.jpg", local_dir());
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  std::ifstream in(*path, std::ios::binary);
  ASSERT_TRUE(in.good()) << *path;
  std::ostringstream copy;
  copy << in.rdbuf();
  const std::string on_disk = copy.str();
  EXPECT_TRUE(on_disk == bytes) << *path << " holds " << on_disk.size() << " bytes";
}

TEST_P(StorageContractTest, ConcurrentWritersToDifferentKeys) {
  constexpr int kThreads = 8;
  constexpr int kObjectsPerThread = 20;
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t] {
      for (int i = 0; i < kObjectsPerThread; ++i) {
        // Half share one directory (creation races), half get their own.
        const std::string key = (i % 2 == 0 ? "jobs/shared/" : "jobs/t" + std::to_string(t) + "/") + "o" +
                                std::to_string(t) + "-" + std::to_string(i);
        Result<std::unique_ptr<Writer>> writer = store().OpenWriter(key, "text/plain");
        ASSERT_TRUE(writer.ok()) << writer.status().ToString();
        for (int part = 0; part < 4; ++part) ASSERT_TRUE((*writer)->Append(key + ";").ok());
        const Result<ObjectInfo> committed = (*writer)->Commit();
        ASSERT_TRUE(committed.ok()) << committed.status().ToString();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  const Result<std::vector<ObjectInfo>> listed = store().List("jobs/");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), static_cast<std::size_t>(kThreads * kObjectsPerThread));
  for (const ObjectInfo& object : *listed) {
    EXPECT_EQ(store().Get(object.key).value(),
              object.key + ";" + object.key + ";" + object.key + ";" + object.key + ";");
  }
}

TEST_P(StorageContractTest, PingIsOk) {
  const Status status = store().Ping();
  EXPECT_TRUE(status.ok()) << status.ToString();
}

TEST_P(StorageContractTest, PresignGetAnswersForValidKeys) {
  ASSERT_NO_FATAL_FAILURE(PutOrFail(store(), "jobs/j8/result.png", "png"));
  // Backends without URLs return ""; the others return a URL. Either way it is not an error.
  const Result<std::string> url = store().PresignGet("jobs/j8/result.png", std::chrono::hours(1));
  EXPECT_TRUE(url.ok()) << url.status().ToString();
}

}  // namespace facefleet::storage::contract
