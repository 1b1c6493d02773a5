#include "jobs/sqlite_db.hpp"

#include <utility>

namespace facefleet::jobs::sqlite {
namespace {

ErrorCode CodeFor(int rc) {
  switch (rc & 0xff) {  // the primary result code of an extended one
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
    case SQLITE_READONLY:
    case SQLITE_NOMEM:
      return ErrorCode::kUnavailable;
    case SQLITE_CONSTRAINT:
      return ErrorCode::kConflict;
    default:
      return ErrorCode::kInternal;
  }
}

}  // namespace

Status ErrorStatus(int rc, sqlite3* db, std::string_view path, std::string_view what) {
  // sqlite3_errmsg describes the most recent failure on `db`, which may be more specific than sqlite3_errstr.
  const char* detail = db != nullptr && sqlite3_errcode(db) == rc ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  std::string message = "job queue " + std::string(path) + ": " + std::string(what) + ": " + detail;
  return {CodeFor(rc), std::move(message)};
}

Statement::Statement(Statement&& other) noexcept
    : stmt_(std::exchange(other.stmt_, nullptr)), conn_(other.conn_), bind_rc_(other.bind_rc_) {}

Statement::~Statement() {
  if (stmt_ == nullptr) return;
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

Statement& Statement::Bind(int index, std::string_view text) {
  // SQLITE_TRANSIENT: SQLite copies the bytes, so temporaries are safe to bind. A null data pointer would bind
  // SQL NULL, which compares unequal to everything; an empty view must bind ''.
  const char* data = text.data() != nullptr ? text.data() : "";
  const int rc = sqlite3_bind_text64(stmt_, index, data, text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Statement& Statement::Bind(int index, std::int64_t value) {
  const int rc = sqlite3_bind_int64(stmt_, index, value);
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Result<bool> Statement::Step() {
  if (bind_rc_ != SQLITE_OK) return conn_->Error(bind_rc_, "bind");
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return conn_->Error(rc, "step");
}

Status Statement::Run() {
  for (;;) {
    Result<bool> row = Step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::Ok();
  }
}

std::string Statement::Text(int column) const {
  const auto* text = sqlite3_column_text(stmt_, column);
  if (text == nullptr) return {};
  return {reinterpret_cast<const char*>(text), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column))};
}

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& path, bool create, bool query_only) {
  // NOMUTEX: the queue never shares a connection between threads at once (see the header), so SQLite's own
  // per-connection mutex would be pure overhead. No SQLITE_OPEN_URI: the path is always a plain file name.
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    Status status = ErrorStatus(rc, db, path, "open");
    sqlite3_close_v2(db);  // a handle is returned even on failure; closing nullptr is a no-op
    return status;
  }
  sqlite3_extended_result_codes(db, 1);
  std::unique_ptr<Connection> conn(new Connection(db, path));
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  // FULL: in WAL mode every commit fsyncs the WAL, which is what makes an acknowledged Submit survive power loss
  // (NORMAL would only survive a process crash).
  if (Status s = conn->Exec("PRAGMA synchronous=FULL"); !s.ok()) return s;
  if (query_only) {
    if (Status s = conn->Exec("PRAGMA query_only=1"); !s.ok()) return s;
  }
  return conn;
}

Connection::~Connection() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  sqlite3_close_v2(db_);
}

Result<Statement> Connection::Prepare(std::string_view sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* stmt = nullptr;
    const int rc =
        sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) return Error(rc, "prepare");
    it = cache_.emplace(std::string(sql), stmt).first;
  }
  return Statement(it->second, this);
}

Status Connection::Exec(const char* sql, std::string_view what) {
  char* error = nullptr;
  const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &error);
  if (rc == SQLITE_OK) return Status::Ok();
  Status status = {CodeFor(rc), "job queue " + path_ + ": " + std::string(what.empty() ? sql : what) + ": " +
                                    (error != nullptr ? error : sqlite3_errstr(rc))};
  sqlite3_free(error);
  return status;
}

Result<Transaction> Transaction::Immediate(Connection& conn) {
  if (Status s = conn.Exec("BEGIN IMMEDIATE"); !s.ok()) return s;
  return Transaction(&conn);
}

Transaction::~Transaction() {
  if (conn_ != nullptr) (void)conn_->Exec("ROLLBACK");
}

Status Transaction::Commit() {
  // On failure (e.g. SQLITE_BUSY, I/O error) the transaction may still be open; the destructor rolls it back.
  if (Status s = conn_->Exec("COMMIT"); !s.ok()) return s;
  conn_ = nullptr;
  return Status::Ok();
}

}  // namespace facefleet::jobs::sqlite
