// A thin RAII layer over the SQLite C API for the job queue: connections with a prepared-statement cache,
// statements that reset themselves when they go out of scope, transactions that roll back unless committed,
// and SQLite result codes mapped to Status.
//
// Thread safety: none. A Connection (and every Statement or Transaction made from it) is used by one thread at a
// time; the queue guards each connection with its own mutex or hands it out from a pool.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include <sqlite3.h>

#include "facefleet/status.hpp"

namespace facefleet::jobs::sqlite {

// How long a connection waits for another connection's (or process's) write lock before giving up with
// kUnavailable. Writes are short (one transaction per call or per submit batch), so this only expires when a
// process hangs while holding the lock.
inline constexpr int kBusyTimeoutMs = 5000;

// kUnavailable for conditions that may clear on retry (busy, locked, I/O error, disk full, cannot open),
// kConflict for constraint violations, kInternal otherwise. The message names the database, the operation and
// SQLite's own explanation: "job queue /var/lib/ff/jobs.db: begin: database is locked".
Status ErrorStatus(int rc, sqlite3* db, std::string_view path, std::string_view what);

class Connection;

// One execution of a cached prepared statement. Binding is 1-based; a failed bind is reported by the next Step.
// The destructor resets the statement and clears its bindings so the cache can hand it out again.
class Statement {
 public:
  Statement(sqlite3_stmt* stmt, const Connection* conn) : stmt_(stmt), conn_(conn) {}
  Statement(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement& operator=(Statement&&) = delete;
  ~Statement();

  Statement& Bind(int index, std::string_view text);
  Statement& Bind(int index, std::int64_t value);

  // true: a row is available through the column accessors; false: the statement is done.
  Result<bool> Step();
  // Steps to completion, ignoring rows (INSERT/UPDATE/DELETE without RETURNING).
  Status Run();

  std::int64_t Int(int column) const { return sqlite3_column_int64(stmt_, column); }
  bool IsNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
  std::string Text(int column) const;

 private:
  sqlite3_stmt* stmt_;
  const Connection* conn_;
  int bind_rc_ = SQLITE_OK;  // first failed bind, reported by Step
};

class Connection {
 public:
  // Opens the database at `path` (creating the file when `create`), with the busy timeout and
  // synchronous=FULL. `query_only` connections refuse writes (the queue's readers).
  static Result<std::unique_ptr<Connection>> Open(const std::string& path, bool create, bool query_only);

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // The cached prepared statement for `sql` (prepared on first use). Precondition: no other live Statement of
  // this connection holds the same SQL text (each call site scopes its Statement tightly).
  Result<Statement> Prepare(std::string_view sql);
  // Runs one or more statements without results (pragmas, BEGIN/COMMIT, schema). Errors name `what`, or the
  // SQL itself when `what` is empty.
  Status Exec(const char* sql, std::string_view what = {});
  // Rows changed by the most recent INSERT/UPDATE/DELETE on this connection.
  std::int64_t Changes() const { return sqlite3_changes64(db_); }
  Status Error(int rc, std::string_view what) const { return ErrorStatus(rc, db_, path_, what); }
  const std::string& path() const { return path_; }

 private:
  Connection(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}

  sqlite3* db_;
  std::string path_;
  std::map<std::string, sqlite3_stmt*, std::less<>> cache_;
};

// BEGIN IMMEDIATE ... COMMIT. Taking the write lock up front (waiting up to the busy timeout) means a
// read-then-write sequence can never be interleaved with another connection's write, in this process or any
// other, and never fails half-way with SQLITE_BUSY_SNAPSHOT.
class Transaction {
 public:
  static Result<Transaction> Immediate(Connection& conn);
  Transaction(Transaction&& other) noexcept : conn_(other.conn_) { other.conn_ = nullptr; }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();  // rolls back unless committed

  Status Commit();

 private:
  explicit Transaction(Connection* conn) : conn_(conn) {}
  Connection* conn_;  // nullptr once committed or rolled back
};

}  // namespace facefleet::jobs::sqlite
