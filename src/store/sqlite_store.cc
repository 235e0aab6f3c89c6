#include "store/sqlite_store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <optional>

#include "codec/gameserver_text.h"
#include "codec/json_codec.h"

namespace muster::store {
namespace {

using core::Code;
using core::Status;

// Pages written to the WAL since the last checkpoint that wake the checkpointer. Smaller
// than SQLite's default of 1,000: each checkpoint ends with an fsync of the database file
// that delays the WAL's flushes queued behind it (docs/benchmarks.md).
constexpr int kCheckpointPages = 250;
// The WAL's size at which the writer makes it start over (Checkpointer::Start): 128 MiB.
constexpr int kStartOverPages = 32768;

struct Encoded {
  std::string body;
  std::optional<std::string> spec;  // nullopt: leave the stored spec as it is (or none)
};

// The text to store. The spec goes in its own table; a GameServer update leaves it be.
Encoded EncodeBody(const Change& c) {
  auto split = [](codec::json j) {
    Encoded e;
    if (j.contains("spec")) {
      e.spec = j["spec"].dump(-1, ' ', false, codec::json::error_handler_t::replace);
      j.erase("spec");
    }
    e.body = j.dump(-1, ' ', false, codec::json::error_handler_t::replace);
    return e;
  };
  return std::visit(
      [&](const auto& obj) -> Encoded {
        using T = std::decay_t<decltype(obj)>;
        if constexpr (std::is_same_v<T, core::Fleet>) return split(codec::EncodeFleet(obj));
        if constexpr (std::is_same_v<T, core::GameServer>) {
          Encoded e{codec::StoredGameServerText(obj), std::nullopt};
          if (c.expected_version == 0) e.spec = codec::GameServerSpecText(obj);
          return e;
        }
        if constexpr (std::is_same_v<T, core::Node>)
          return {
              codec::EncodeNode(obj).dump(-1, ' ', false, codec::json::error_handler_t::replace),
              std::nullopt};
        if constexpr (std::is_same_v<T, core::ApiToken>)
          return {
              codec::EncodeToken(obj).dump(-1, ' ', false, codec::json::error_handler_t::replace),
              std::nullopt};
        return {"{}", std::nullopt};
      },
      c.object);
}

void SetVersion(Change& c, uint64_t version) {
  std::visit(
      [version](auto& obj) {
        using T = std::decay_t<decltype(obj)>;
        if constexpr (std::is_same_v<T, core::Fleet> || std::is_same_v<T, core::GameServer>)
          obj.meta.version = version;
      },
      c.object);
}

}  // namespace

const char* KindName(Kind kind) {
  switch (kind) {
    case Kind::kFleet: return "Fleet";
    case Kind::kGameServer: return "GameServer";
    case Kind::kNode: return "Node";
    case Kind::kToken: return "Token";
  }
  return "";
}

Change Change::Put(core::Fleet f) {
  Change c{Op::kPut, Kind::kFleet, f.meta.name, f.meta.version, {}};
  c.object = std::move(f);
  return c;
}
Change Change::Put(core::GameServer gs) {
  Change c{Op::kPut, Kind::kGameServer, gs.meta.name, gs.meta.version, {}};
  c.object = std::move(gs);
  return c;
}
Change Change::Put(core::Node n, uint64_t expected_version) {
  Change c{Op::kPut, Kind::kNode, n.name, expected_version, {}};
  c.object = std::move(n);
  return c;
}
Change Change::Put(core::ApiToken t) {
  Change c{Op::kPut, Kind::kToken, t.name, 0, {}};
  c.object = std::move(t);
  return c;
}
Change Change::Delete(Kind kind, std::string name, uint64_t expected_version) {
  return Change{Op::kDelete, kind, std::move(name), expected_version, {}};
}

core::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path,
                                                               SyncMode mode) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  std::unique_ptr<SqliteStore> store(new SqliteStore(db));
  if (rc != SQLITE_OK) return store->Error("open " + path);
  // What keeps the file from serving as the store, with its path (and, for a file SQLite
  // cannot read, what to do).
  auto refuse = [&](const Status& s) {
    std::string why = "cannot use " + path + " as Muster's store: " + s.message();
    if (sqlite3_errcode(db) == SQLITE_NOTADB)
      why +=
          " (damaged, or not a Muster store: restore it from a backup, or move it aside to "
          "start with an empty store)";
    return Status(s.code(), why);
  };
  const char* sync =
      mode == SyncMode::kDeferred ? "PRAGMA synchronous=NORMAL" : "PRAGMA synchronous=FULL";
  for (const char* pragma :
       {"PRAGMA journal_mode=WAL", sync, "PRAGMA busy_timeout=5000", "PRAGMA foreign_keys=ON"}) {
    if (Status s = store->Exec(pragma); !s.ok()) return refuse(s);
  }
  if (Status s = store->Exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
                             " version INTEGER PRIMARY KEY, description TEXT NOT NULL,"
                             " applied_at TEXT NOT NULL DEFAULT (datetime('now')))");
      !s.ok())
    return refuse(s);
  const int current = store->schema_version();
  for (const Migration& m : Migrations()) {
    if (m.version <= current) continue;
    std::string sql = std::string("BEGIN IMMEDIATE;") + m.sql +
                      "INSERT INTO schema_migrations(version, description) VALUES(" +
                      std::to_string(m.version) + ", '" + m.description + "');COMMIT;";
    if (Status s = store->Exec(sql.c_str()); !s.ok()) {
      store->Exec("ROLLBACK");
      return Status(Code::kInternal,
                    "schema migration " + std::to_string(m.version) + " failed: " + s.message());
    }
  }
  if (store->schema_version() > Migrations().back().version)
    return Status(Code::kFailedPrecondition, path + " was written by a newer Muster (schema " +
                                                 std::to_string(store->schema_version()) +
                                                 "); upgrade Muster");
  if (Status s = store->Prepare(); !s.ok()) return s;
  if (mode == SyncMode::kDeferred) {  // the WAL exists by now: the migrations read the schema
    store->wal_fd_ = ::open((path + "-wal").c_str(), O_RDWR | O_CLOEXEC);
    if (store->wal_fd_ < 0)
      return Status(Code::kInternal,
                    "cannot open " + path + "-wal to sync it: " + std::strerror(errno));
  }
  auto checkpointer = Checkpointer::Start(path, kCheckpointPages, kStartOverPages);
  if (!checkpointer.ok()) return checkpointer.status();
  store->checkpointer_ = std::move(*checkpointer);
  store->checkpointer_->Watch(db);
  return store;
}

SqliteStore::~SqliteStore() {
  checkpointer_.reset();
  if (wal_fd_ >= 0) ::close(wal_fd_);
  for (sqlite3_stmt* st :
       {insert_, update_, delete_, put_spec_, delete_spec_, begin_, commit_, rollback_})
    sqlite3_finalize(st);
  sqlite3_close(db_);
}

int SqliteStore::schema_version() const {
  sqlite3_stmt* st = nullptr;
  int version = 0;
  if (sqlite3_prepare_v2(db_, "SELECT COALESCE(MAX(version),0) FROM schema_migrations", -1, &st,
                         nullptr) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    version = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  return version;
}

Status SqliteStore::Prepare() {
  struct {
    sqlite3_stmt** st;
    const char* sql;
  } stmts[] = {
      {&insert_, "INSERT INTO objects(kind, name, version, body) VALUES(?1, ?2, ?3, ?4)"},
      {&update_,
       "UPDATE objects SET version = ?3, body = ?4 WHERE kind = ?1 AND name = ?2 AND version = ?5"},
      {&delete_, "DELETE FROM objects WHERE kind = ?1 AND name = ?2 AND version = ?3"},
      {&put_spec_, "INSERT OR REPLACE INTO specs(kind, name, spec) VALUES(?1, ?2, ?3)"},
      {&delete_spec_, "DELETE FROM specs WHERE kind = ?1 AND name = ?2"},
      {&begin_, "BEGIN IMMEDIATE"},
      {&commit_, "COMMIT"},
      {&rollback_, "ROLLBACK"},
  };
  for (auto& s : stmts)
    if (sqlite3_prepare_v3(db_, s.sql, -1, SQLITE_PREPARE_PERSISTENT, s.st, nullptr) != SQLITE_OK)
      return Error("prepare");
  return core::OkStatus();
}

Status SqliteStore::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    Status s(Code::kInternal, std::string("sqlite: ") + (err ? err : "error"));
    sqlite3_free(err);
    return s;
  }
  return core::OkStatus();
}

Status SqliteStore::Error(const std::string& what) const {
  return Status(Code::kInternal,
                "sqlite " + what + ": " + (db_ ? sqlite3_errmsg(db_) : "no memory"));
}

core::StatusOr<Snapshot> SqliteStore::Load() {
  Snapshot snap;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_,
                         "SELECT kind, name, version, body, spec FROM objects LEFT JOIN specs "
                         "USING (kind, name) ORDER BY kind, name",
                         -1, &st, nullptr) != SQLITE_OK)
    return Error("load");
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    std::string kind = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    const std::string name = reinterpret_cast<const char*>(sqlite3_column_text(st, 1));
    auto unreadable = [&](const std::string& why) {
      snap.unreadable.push_back(kind + " " + name + ": " + why);
    };
    uint64_t version = static_cast<uint64_t>(sqlite3_column_int64(st, 2));
    auto body = codec::json::parse(reinterpret_cast<const char*>(sqlite3_column_text(st, 3)),
                                   nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
      unreadable("its stored JSON does not parse as an object");
      continue;
    }
    if (const unsigned char* spec = sqlite3_column_text(st, 4)) {
      auto parsed = codec::json::parse(reinterpret_cast<const char*>(spec), nullptr, false);
      if (!parsed.is_discarded()) body["spec"] = std::move(parsed);
    }
    try {  // a row of the wrong shape (written by hand, or by a faulty build)
      auto take = [&](auto decoded, auto& into) {
        if (!decoded.ok()) return unreadable(decoded.status().message());
        decoded->meta.version = version;
        into.push_back(std::move(*decoded));
      };
      if (kind == "Fleet") {
        take(codec::DecodeFleet(body, codec::Mode::kStored), snap.fleets);
      } else if (kind == "GameServer") {
        take(codec::DecodeGameServer(body, codec::Mode::kStored), snap.gameservers);
      } else if (kind == "Token") {
        snap.tokens.push_back(codec::DecodeToken(body));
      } else if (kind == "Node") {
        snap.nodes.push_back(codec::DecodeNode(body));
        snap.node_versions.push_back(version);
      }
    } catch (const std::exception& e) {
      unreadable(e.what());
      if (kind == "Node") {  // this node's facts are written over it at start
        core::Node placeholder;
        placeholder.name = name;
        snap.nodes.push_back(placeholder);
        snap.node_versions.push_back(version);
      }
    }
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) return Error("load");
  return snap;
}

Status SqliteStore::Apply(Change& c) {
  const char* kind = KindName(c.kind);
  auto bind_key = [&](sqlite3_stmt* st) {
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, c.name.data(), static_cast<int>(c.name.size()), SQLITE_STATIC);
  };
  auto run = [&](sqlite3_stmt* st) {
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
  };
  sqlite3_stmt* st;
  Encoded enc;
  if (c.op == Change::Op::kDelete) {
    st = delete_;
    sqlite3_bind_int64(st, 3, static_cast<sqlite3_int64>(c.expected_version));
  } else {
    enc = EncodeBody(c);
    st = c.expected_version == 0 ? insert_ : update_;
    sqlite3_bind_int64(st, 3, static_cast<sqlite3_int64>(c.expected_version + 1));
    sqlite3_bind_text(st, 4, enc.body.data(), static_cast<int>(enc.body.size()), SQLITE_STATIC);
    if (st == update_) sqlite3_bind_int64(st, 5, static_cast<sqlite3_int64>(c.expected_version));
  }
  bind_key(st);
  int rc = run(st);
  if (rc == SQLITE_CONSTRAINT)
    return Status(Code::kAborted, std::string(kind) + " " + c.name + " already exists");
  if (rc != SQLITE_DONE) return Error("write");
  if (sqlite3_changes(db_) != 1)
    return Status(Code::kAborted, std::string(kind) + " " + c.name +
                                      " was changed or removed since it was read (version " +
                                      std::to_string(c.expected_version) + ")");
  // The spec row follows its object: written with it, removed with it.
  if (c.op == Change::Op::kDelete) {
    bind_key(delete_spec_);
    if (run(delete_spec_) != SQLITE_DONE) return Error("write");
  } else if (enc.spec) {
    bind_key(put_spec_);
    sqlite3_bind_text(put_spec_, 3, enc.spec->data(), static_cast<int>(enc.spec->size()),
                      SQLITE_STATIC);
    if (run(put_spec_) != SQLITE_DONE) return Error("write");
  }
  return core::OkStatus();
}

Status SqliteStore::Sync() {
  if (wal_fd_ < 0) return core::OkStatus();  // kInCommit: COMMIT synced
  if (::fdatasync(wal_fd_) != 0)
    return Status(Code::kInternal, std::string("fdatasync of the WAL: ") + std::strerror(errno));
  return core::OkStatus();
}

Status SqliteStore::Step(sqlite3_stmt* st) {
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? core::OkStatus() : Error("transaction");
}

Status SqliteStore::Commit(std::vector<Change>& changes) {
  if (changes.empty()) return core::OkStatus();
  checkpointer_->StartOverIfDue(db_);
  if (Status s = Step(begin_); !s.ok()) return s;
  for (Change& c : changes) {
    if (Status s = Apply(c); !s.ok()) {
      Step(rollback_);
      return s;
    }
  }
  if (Status s = Step(commit_); !s.ok()) {
    Step(rollback_);
    return s;
  }
  for (Change& c : changes)
    if (c.op == Change::Op::kPut) SetVersion(c, c.expected_version + 1);
  for (const auto& h : handlers_) h(changes);
  return core::OkStatus();
}

}  // namespace muster::store
