// Store on a SQLite file in WAL mode. A commit is on disk when Commit returns
// (synchronous=FULL), or, with SyncMode::kDeferred, when a later Sync returns. One
// connection writes, used by one thread at a time (the controller's owner thread); Sync
// may run on another; a Checkpointer copies the WAL into the database file on its own
// thread.
#pragma once

#include <memory>
#include <string>

#include "store/checkpointer.h"
#include "store/store.h"

struct sqlite3;
struct sqlite3_stmt;

namespace muster::store {

class SqliteStore : public Store {
 public:
  // kInCommit: each COMMIT fsyncs the WAL (synchronous=FULL). kDeferred: COMMIT only
  // writes (synchronous=NORMAL) and Sync() fdatasyncs the WAL file, so a second thread
  // can flush one batch while the next is written; the database stays consistent
  // either way, and a commit counts as durable only once a Sync after it returned.
  enum class SyncMode { kInCommit, kDeferred };

  // Opens (creating if needed) `path` and runs pending schema migrations.
  static core::StatusOr<std::unique_ptr<SqliteStore>> Open(const std::string& path,
                                                           SyncMode mode = SyncMode::kInCommit);
  ~SqliteStore() override;

  core::StatusOr<Snapshot> Load() override;
  core::Status Commit(std::vector<Change>& changes) override;
  core::Status Sync() override;
  void Subscribe(ChangeFeedHandler handler) override { handlers_.push_back(std::move(handler)); }

  int schema_version() const;
  // WAL checkpoints run so far by the checkpointer thread (not counting the writer's own,
  // which only start a full WAL over).
  long checkpoints() const { return checkpointer_->done(); }

 private:
  explicit SqliteStore(sqlite3* db) : db_(db) {}
  core::Status Prepare();
  core::Status Apply(Change& change);
  core::Status Exec(const char* sql);
  core::Status Step(sqlite3_stmt* st);
  core::Status Error(const std::string& what) const;

  sqlite3* db_;
  int wal_fd_ = -1;                             // kDeferred: the WAL file, for Sync
  std::unique_ptr<Checkpointer> checkpointer_;  // stopped before db_ closes
  sqlite3_stmt* insert_ = nullptr;
  sqlite3_stmt* update_ = nullptr;
  sqlite3_stmt* delete_ = nullptr;
  sqlite3_stmt* put_spec_ = nullptr;  // specs live in their own table (migration 3)
  sqlite3_stmt* delete_spec_ = nullptr;
  sqlite3_stmt* begin_ = nullptr;
  sqlite3_stmt* commit_ = nullptr;
  sqlite3_stmt* rollback_ = nullptr;
  std::vector<ChangeFeedHandler> handlers_;
};

// Schema migrations, in order; migrations.cc. Each runs once, in its own transaction.
struct Migration {
  int version;
  const char* description;
  const char* sql;
};
const std::vector<Migration>& Migrations();

}  // namespace muster::store
