// The SQLite KeyStore (http/auth.hpp): one file, for one machine. Several processes may open the same file
// (WAL mode); every check-and-write is one statement, so it is atomic across them.
#include <sqlite3.h>

#include "http/auth.hpp"

namespace facefleet::http {
namespace {

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

class SqliteKeyStore final : public KeyStore {
 public:
  SqliteKeyStore(sqlite3* db, std::string pepper, std::chrono::milliseconds cache_ttl)
      : KeyStore(std::move(pepper), cache_ttl), db_(db) {}
  ~SqliteKeyStore() override { sqlite3_close(db_); }
  SqliteKeyStore(const SqliteKeyStore&) = delete;
  SqliteKeyStore& operator=(const SqliteKeyStore&) = delete;

  Result<std::int64_t> CountActive() override;
  Result<std::vector<StoredKey>> Export() override;

 protected:
  Result<InsertOutcome> Insert(const StoredKey& key, bool only_if_none_active) override;
  Status MarkRevoked(const std::string& id, std::int64_t revoked_ms) override;
  Result<std::optional<std::string>> ActiveHash(const std::string& id) override;

 private:
  std::mutex mu_;  // guards db_: one connection (key operations are rare and fast)
  sqlite3* db_;
};

Result<std::vector<StoredKey>> SqliteKeyStore::Export() {
  std::lock_guard lock(mu_);
  Statement select(db_, "SELECT id, name, created_ms, revoked_ms, hash FROM api_keys ORDER BY created_ms, id", {});
  std::vector<StoredKey> keys;
  int rc = 0;
  while ((rc = select.Step()) == SQLITE_ROW) {
    keys.push_back({{select.Text(0), select.Text(1), select.Int(2), select.Int(3)}, select.Text(4)});
  }
  if (rc != SQLITE_DONE) return select.Error("cannot list keys");
  return keys;
}

Result<std::int64_t> SqliteKeyStore::CountActive() {
  std::lock_guard lock(mu_);
  Statement count(db_, "SELECT COUNT(*) FROM api_keys WHERE revoked_ms = 0", {});
  if (count.Step() != SQLITE_ROW) return count.Error("cannot count keys");
  return count.Int(0);
}

Result<KeyStore::InsertOutcome> SqliteKeyStore::Insert(const StoredKey& key, bool only_if_none_active) {
  // One statement each: SQLite runs it under its write lock, so the checks hold for every process on the file.
  const char* sql =
      only_if_none_active
          ? "INSERT OR IGNORE INTO api_keys (id, name, hash, created_ms, revoked_ms) SELECT ?, ?, ?, ?, ?"
            " WHERE NOT EXISTS (SELECT 1 FROM api_keys WHERE revoked_ms = 0)"
          : "INSERT OR IGNORE INTO api_keys (id, name, hash, created_ms, revoked_ms) VALUES (?, ?, ?, ?, ?)";
  std::lock_guard lock(mu_);
  Statement insert(
      db_, sql,
      {key.info.id, key.info.name, key.hash, std::to_string(key.info.created_ms), std::to_string(key.info.revoked_ms)});
  if (insert.Step() != SQLITE_DONE) return insert.Error("cannot store key");
  if (sqlite3_changes(db_) > 0) return InsertOutcome::kInserted;
  Statement exists(db_, "SELECT 1 FROM api_keys WHERE id = ?", {key.info.id});
  return exists.Step() == SQLITE_ROW ? InsertOutcome::kIdTaken : InsertOutcome::kActiveKeyExists;
}

Status SqliteKeyStore::MarkRevoked(const std::string& id, std::int64_t revoked_ms) {
  std::lock_guard lock(mu_);
  Statement update(db_, "UPDATE api_keys SET revoked_ms = ? WHERE id = ? AND revoked_ms = 0",
                   {std::to_string(revoked_ms), id});
  if (update.Step() != SQLITE_DONE) return update.Error("cannot revoke key");
  if (sqlite3_changes(db_) > 0) return Status::Ok();
  Statement exists(db_, "SELECT 1 FROM api_keys WHERE id = ?", {id});
  return exists.Step() == SQLITE_ROW ? Status::Ok() : Status(ErrorCode::kNotFound, "no API key with id " + id);
}

Result<std::optional<std::string>> SqliteKeyStore::ActiveHash(const std::string& id) {
  std::lock_guard lock(mu_);
  Statement select(db_, "SELECT hash FROM api_keys WHERE id = ? AND revoked_ms = 0", {id});
  const int rc = select.Step();
  if (rc == SQLITE_DONE) return std::optional<std::string>();
  if (rc != SQLITE_ROW) return select.Error("cannot read key database");
  return std::optional<std::string>(select.Text(0));
}

}  // namespace

Result<std::unique_ptr<KeyStore>> OpenSqliteKeyStore(const std::string& path, std::string pepper,
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
  return std::unique_ptr<KeyStore>(std::make_unique<SqliteKeyStore>(db, std::move(pepper), cache_ttl));
}

}  // namespace facefleet::http
