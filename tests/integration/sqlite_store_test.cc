// The SQLite store on real files: durability across reopen, all-or-nothing commits
// with version preconditions, migrations, and the change feed.
#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "store/checkpointer.h"
#include "store/sqlite_store.h"
#include "support/poll.h"

namespace muster::store {
namespace {

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/muster-store-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    path_ = dir_ + "/muster.db";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<SqliteStore> Open() {
    auto s = SqliteStore::Open(path_);
    EXPECT_TRUE(s.ok()) << s.status().message();
    return std::move(s.value());
  }

  static core::GameServer Server(const std::string& name, const std::string& fleet = "f") {
    core::GameServer gs;
    gs.meta.name = name;
    gs.fleet = fleet;
    gs.spec.mut().containers = 1;
    gs.spec.mut().pod_template_json = R"({"spec":{"containers":[{"command":["x"],"name":"c"}]}})";
    gs.status.pid = 77;
    return gs;
  }

  std::string dir_, path_;
};

TEST_F(SqliteStoreTest, CommitsSurviveReopenWithVersions) {
  {
    auto store = Open();
    std::vector<Change> batch = {Change::Put(Server("a")), Change::Put(Server("b"))};
    ASSERT_TRUE(store->Commit(batch).ok());
    EXPECT_EQ(std::get<core::GameServer>(batch[0].object).meta.version, 1u);
    core::GameServer a = std::get<core::GameServer>(batch[0].object);
    a.status.state = core::GameServerState::kReady;
    std::vector<Change> update = {Change::Put(a)};
    ASSERT_TRUE(store->Commit(update).ok());
  }
  auto store = Open();
  auto snap = store->Load();
  ASSERT_TRUE(snap.ok());
  ASSERT_EQ(snap->gameservers.size(), 2u);
  EXPECT_EQ(snap->gameservers[0].meta.name, "a");
  EXPECT_EQ(snap->gameservers[0].meta.version, 2u);
  EXPECT_EQ(snap->gameservers[0].status.state, core::GameServerState::kReady);
  EXPECT_EQ(snap->gameservers[0].status.pid, 77);
  EXPECT_EQ(snap->gameservers[0].fleet, "f");
  EXPECT_EQ(snap->gameservers[1].meta.version, 1u);
}

TEST_F(SqliteStoreTest, AStaleVersionAbortsTheWholeCommit) {
  auto store = Open();
  std::vector<Change> first = {Change::Put(Server("a"))};
  ASSERT_TRUE(store->Commit(first).ok());
  core::GameServer stale = Server("a");  // version 0: "must not exist"
  std::vector<Change> batch = {Change::Put(Server("c")), Change::Put(stale)};
  core::Status s = store->Commit(batch);
  EXPECT_EQ(s.code(), core::Code::kAborted);
  EXPECT_NE(s.message().find("GameServer a"), std::string::npos) << s.message();
  auto snap = store->Load();
  ASSERT_EQ(snap->gameservers.size(), 1u) << "c must not be committed either";

  core::GameServer wrong = Server("a");
  wrong.meta.version = 5;
  std::vector<Change> upd = {Change::Put(wrong)};
  EXPECT_EQ(store->Commit(upd).code(), core::Code::kAborted);
  std::vector<Change> del = {Change::Delete(Kind::kGameServer, "a", 9)};
  EXPECT_EQ(store->Commit(del).code(), core::Code::kAborted);
  std::vector<Change> good = {Change::Delete(Kind::kGameServer, "a", 1)};
  EXPECT_TRUE(store->Commit(good).ok());
  EXPECT_TRUE(store->Load()->gameservers.empty());
}

TEST_F(SqliteStoreTest, ChangeFeedSeesEachCommittedBatchOnly) {
  auto store = Open();
  std::vector<std::vector<std::string>> seen;
  store->Subscribe([&](const std::vector<Change>& batch) {
    std::vector<std::string> names;
    for (const auto& c : batch) names.push_back(c.name);
    seen.push_back(names);
  });
  std::vector<Change> b1 = {Change::Put(Server("a")), Change::Put(Server("b"))};
  ASSERT_TRUE(store->Commit(b1).ok());
  std::vector<Change> bad = {Change::Put(Server("a"))};
  ASSERT_FALSE(store->Commit(bad).ok());
  core::Node node{"n1", "10.0.0.1"};
  std::vector<Change> b2 = {Change::Put(node, 0)};
  ASSERT_TRUE(store->Commit(b2).ok());
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(seen[1], std::vector<std::string>{"n1"});
  auto snap = store->Load();
  ASSERT_EQ(snap->nodes.size(), 1u);
  EXPECT_EQ(snap->nodes[0], node);
}

TEST_F(SqliteStoreTest, MigrationsRunOnceAndUseWal) {
  {
    auto store = Open();
    EXPECT_EQ(store->schema_version(), Migrations().back().version);
  }
  auto store = Open();  // reopening runs nothing again
  EXPECT_EQ(store->schema_version(), Migrations().back().version);
  EXPECT_TRUE(std::filesystem::exists(path_ + "-wal"));
}

// A database written before migration 3 (specs in a column of `objects`) opens with its
// specs moved to their own table, and loads the same servers.
TEST_F(SqliteStoreTest, ASchema2DatabaseMovesItsSpecsToTheirOwnTable) {
  std::string body, spec;
  {  // the stored text of one server, taken from a current database
    auto store = Open();
    std::vector<Change> batch = {Change::Put(Server("a"))};
    ASSERT_TRUE(store->Commit(batch).ok());
  }
  auto query = [](const std::string& path, const std::string& sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sql;
    std::string out;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
      out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
  };
  body = query(path_, "SELECT body FROM objects WHERE name = 'a'");
  spec = query(path_, "SELECT spec FROM specs WHERE name = 'a'");
  ASSERT_FALSE(body.empty());
  ASSERT_NE(spec.find("containers"), std::string::npos);

  const std::string old_path = dir_ + "/old.db";  // schema 2, built by hand
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(old_path.c_str(), &db), SQLITE_OK);
  std::string sql =
      "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL,"
      " applied_at TEXT NOT NULL DEFAULT (datetime('now')));";
  for (int i = 0; i < 2; ++i)
    sql += Migrations()[i].sql + std::string("INSERT INTO schema_migrations VALUES(") +
           std::to_string(i + 1) + ", 'm', datetime('now'));";
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "INSERT INTO objects VALUES('GameServer', 'a', 7, ?1, ?2)", -1,
                               &st, nullptr),
            SQLITE_OK);
  sqlite3_bind_text(st, 1, body.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 2, spec.c_str(), -1, SQLITE_TRANSIENT);
  ASSERT_EQ(sqlite3_step(st), SQLITE_DONE);
  sqlite3_finalize(st);
  sqlite3_close(db);

  auto store = SqliteStore::Open(old_path);
  ASSERT_TRUE(store.ok()) << store.status().message();
  EXPECT_EQ((*store)->schema_version(), 3);
  auto snap = (*store)->Load();
  ASSERT_TRUE(snap.ok());
  ASSERT_EQ(snap->gameservers.size(), 1u);
  EXPECT_EQ(snap->gameservers[0].meta.version, 7u);
  EXPECT_EQ(snap->gameservers[0].spec->containers, 1);
  EXPECT_EQ(snap->gameservers[0].spec->pod_template_json, Server("a").spec->pod_template_json);
  EXPECT_EQ(snap->gameservers[0].status.pid, 77);
  EXPECT_EQ(query(old_path, "SELECT spec FROM specs WHERE name = 'a'"), spec);
  EXPECT_EQ(
      query(old_path, "SELECT COUNT(*) FROM pragma_table_info('objects') WHERE name = 'spec'"),
      "0");

  // Deleting the server removes its spec row too.
  std::vector<Change> del = {Change::Delete(Kind::kGameServer, "a", 7)};
  ASSERT_TRUE((*store)->Commit(del).ok());
  EXPECT_EQ(query(old_path, "SELECT COUNT(*) FROM specs"), "0");
}

TEST_F(SqliteStoreTest, ARowThatCannotBeReadIsNamedNotSilentlyLeftOut) {
  {
    auto store = Open();
    core::GameServer gs = Server("good");
    std::vector<Change> put = {Change::Put(gs)};
    ASSERT_TRUE(store->Commit(put).ok());
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "INSERT INTO objects(kind, name, version, body) VALUES"
                         " ('GameServer', 'num', 1, '5'),"
                         " ('GameServer', 'torn', 1, '{\"metadata\": '),"
                         " ('GameServer', 'typed', 1, '{\"status\": {\"address\": 5}}'),"
                         " ('Node', 'n1', 3, '{\"name\": 5}')",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto snap = Open()->Load();
  ASSERT_TRUE(snap.ok());
  ASSERT_EQ(snap->gameservers.size(), 1u);
  EXPECT_EQ(snap->gameservers[0].meta.name, "good");
  ASSERT_EQ(snap->unreadable.size(), 4u);
  EXPECT_EQ(snap->unreadable[0], "GameServer num: its stored JSON does not parse as an object");
  EXPECT_EQ(snap->unreadable[1], "GameServer torn: its stored JSON does not parse as an object");
  EXPECT_EQ(snap->unreadable[2].rfind("GameServer typed: ", 0), 0u) << snap->unreadable[2];
  EXPECT_EQ(snap->unreadable[3].rfind("Node n1: ", 0), 0u) << snap->unreadable[3];
  // An unreadable node keeps its name and version, so that this node's facts overwrite it.
  ASSERT_EQ(snap->nodes.size(), 1u);
  EXPECT_EQ(snap->nodes[0].name, "n1");
  EXPECT_EQ(snap->node_versions[0], 3u);
}

// A file that is not an SQLite database (damaged, or something else at that path) is
// refused with its path and what to do, and left as it was.
TEST_F(SqliteStoreTest, RefusesAFileThatIsNotADatabaseNamingItAndLeavesItAlone) {
  const std::string garbage(8192, 'x');
  std::ofstream(path_, std::ios::binary) << garbage;
  auto store = SqliteStore::Open(path_);
  ASSERT_FALSE(store.ok());
  const std::string& message = store.status().message();
  EXPECT_EQ(message.rfind("cannot use " + path_ + " as Muster's store: ", 0), 0u) << message;
  EXPECT_NE(message.find("file is not a database"), std::string::npos) << message;
  EXPECT_NE(message.find("restore it from a backup"), std::string::npos) << message;
  std::ifstream in(path_, std::ios::binary);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), garbage) << "changed";
}

TEST_F(SqliteStoreTest, RefusesADatabaseFromANewerMuster) {
  { auto store = Open(); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(
      sqlite3_exec(db, "INSERT INTO schema_migrations(version, description) VALUES(999, 'future')",
                   nullptr, nullptr, nullptr),
      SQLITE_OK);
  sqlite3_close(db);
  auto again = SqliteStore::Open(path_);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.status().message().find("newer Muster"), std::string::npos);
}

// The WAL is copied into the database file by the store's own checkpointer thread
// (the writer runs one only to start a full WAL over): once the WAL passes its threshold (well
// under the ~1,500 pages written here), the main file grows while the store stays
// open, with no reader or writer asking.
TEST_F(SqliteStoreTest, TheCheckpointerCopiesTheWalIntoTheDatabaseFile) {
  auto store = Open();
  const auto initial = std::filesystem::file_size(path_);
  const std::string padding(2000, 'x');  // rows of ~2 KB: 3,000 of them fill ~1,500 pages
  for (int batch = 0; batch < 30; ++batch) {
    std::vector<Change> changes;
    for (int i = 0; i < 100; ++i) {
      core::GameServer gs = Server("s-" + std::to_string(batch * 100 + i));
      gs.meta.labels["padding"] = padding;
      changes.push_back(Change::Put(gs));
    }
    ASSERT_TRUE(store->Commit(changes).ok());
  }
  EXPECT_TRUE(testing::PollUntil(
      [&] {
        return store->checkpoints() > 0 && std::filesystem::file_size(path_) > initial + 2'000'000;
      },
      std::chrono::seconds(20)))
      << "checkpoints: " << store->checkpoints() << "; muster.db is "
      << std::filesystem::file_size(path_) << " bytes";
  auto snap = store->Load();
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->gameservers.size(), 3000u);
}

// A bare WAL database with a checkpointer watching its writing connection, written one
// page a row, the way SqliteStore::Commit writes: StartOverIfDue before each transaction.
struct WatchedWal {
  explicit WatchedWal(const std::string& path, int pages, int start_over) {
    EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    EXPECT_EQ(Exec(db, "PRAGMA journal_mode=WAL"), SQLITE_OK);
    EXPECT_EQ(Exec(db, "CREATE TABLE t(k INTEGER PRIMARY KEY, v BLOB)"), SQLITE_OK);
    auto started = Checkpointer::Start(path, pages, start_over);
    EXPECT_TRUE(started.ok()) << started.status().message();
    if (started.ok()) checkpointer = std::move(*started);
    if (checkpointer) checkpointer->Watch(db);
  }
  ~WatchedWal() {
    checkpointer.reset();  // its connection closes first
    sqlite3_close(db);
  }
  static int Exec(sqlite3* on, const char* sql) {
    return sqlite3_exec(on, sql, nullptr, nullptr, nullptr);
  }
  int Commit() {  // a row of 3,000 bytes: a page of its own, 2-3 pages a commit
    checkpointer->StartOverIfDue(db);
    return Exec(db, "INSERT INTO t(v) VALUES(zeroblob(3000))");
  }
  int Rows() {
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "SELECT count(*) FROM t", -1, &st, nullptr);
    const int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    return n;
  }
  sqlite3* db = nullptr;
  std::unique_ptr<Checkpointer> checkpointer;
};

// Under a steady stream of commits the WAL does not keep every page ever written: once
// it holds the start-over size, the writer copies what the checkpointer thread has not
// and its next transaction starts the WAL over, in the same file. (Without that, these
// 400 commits of 2-3 pages each, with checkpoints never catching up, leave a WAL of
// about 1,000 pages.) Nothing written is lost on the way.
TEST_F(SqliteStoreTest, TheWalStartsOverUnderSteadyCommits) {
  constexpr int kStartOver = 64;
  WatchedWal w(path_, 8, kStartOver);
  ASSERT_TRUE(w.checkpointer);
  const std::string wal = path_ + "-wal";
  const uintmax_t frame = 24 + 4096;  // a frame's header and its page
  uintmax_t largest = 0;
  for (int i = 0; i < 400; ++i) {
    ASSERT_EQ(w.Commit(), SQLITE_OK);
    largest = std::max(largest, std::filesystem::file_size(wal));
  }
  // Start-over size, plus the pages written while the checkpointer thread held the
  // checkpoint lock (a copy that finds it taken is retried 8 pages later), with room
  // to spare.
  EXPECT_LT(largest, 32 + (kStartOver + 100) * frame)
      << "the WAL grew to " << largest / frame << " frames";
  EXPECT_EQ(w.Rows(), 400);
}

// A WAL that cannot start over (here another connection holds a read transaction on its
// old pages) is not copied again before every commit, only each time `pages` more pages
// have been written; and once the reader is gone it starts over, after which the file
// stops growing.
TEST_F(SqliteStoreTest, AWalThatCannotStartOverIsRetriedEveryFewPagesAndStartsOverOnceItCan) {
  constexpr int kPages = 50, kStartOver = 64;
  WatchedWal w(path_, kPages, kStartOver);
  ASSERT_TRUE(w.checkpointer);
  ASSERT_EQ(w.Commit(), SQLITE_OK);
  sqlite3* reader = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &reader), SQLITE_OK);
  ASSERT_EQ(WatchedWal::Exec(reader, "BEGIN; SELECT count(*) FROM t"), SQLITE_OK);  // a snapshot
  constexpr int kCommits = 300;  // ~800 pages past the start-over size
  for (int i = 0; i < kCommits; ++i) ASSERT_EQ(w.Commit(), SQLITE_OK);
  const long copies = w.checkpointer->start_over_copies();
  EXPECT_GE(copies, 1);
  EXPECT_LE(copies, 3 * kCommits / kPages + 1) << "copied before nearly every commit";

  ASSERT_EQ(WatchedWal::Exec(reader, "COMMIT"), SQLITE_OK);
  sqlite3_close(reader);
  const std::string wal = path_ + "-wal";
  for (int i = 0; i < 200; ++i) ASSERT_EQ(w.Commit(), SQLITE_OK);
  const auto size = std::filesystem::file_size(wal);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(w.Commit(), SQLITE_OK);
  EXPECT_EQ(std::filesystem::file_size(wal), size) << "the WAL did not start over";
}

// Deferred syncing: commits are written by one thread while another flushes the WAL,
// as the controller's owner and syncer threads do. Everything committed is there after a
// reopen, versions in order, and Sync reports success throughout.
TEST_F(SqliteStoreTest, DeferredSyncRunsBesideCommitsAndLosesNothing) {
  {
    auto opened = SqliteStore::Open(path_, SqliteStore::SyncMode::kDeferred);
    ASSERT_TRUE(opened.ok()) << opened.status().message();
    auto& store = **opened;
    std::atomic<bool> done{false};
    std::atomic<int> syncs{0}, failed{0};
    std::thread syncer([&] {
      while (!done) {
        if (!store.Sync().ok()) ++failed;
        ++syncs;
      }
    });
    struct StopOnExit {  // also when an ASSERT below leaves early
      std::atomic<bool>& done;
      std::thread& t;
      ~StopOnExit() {
        done = true;
        t.join();
      }
    } stop{done, syncer};
    // The syncer is flushing before the first commit (a thread may start late on busy cores).
    ASSERT_TRUE(testing::PollUntil([&] { return syncs > 0; }, std::chrono::seconds(10)));
    std::vector<core::GameServer> servers;
    for (int i = 0; i < 20; ++i) servers.push_back(Server("s-" + std::to_string(i)));
    for (int round = 0; round < 50; ++round) {
      std::vector<Change> batch;
      for (auto& gs : servers) batch.push_back(Change::Put(gs));
      ASSERT_TRUE(store.Commit(batch).ok());
      for (size_t i = 0; i < servers.size(); ++i)
        servers[i] = std::get<core::GameServer>(batch[i].object);  // carries the new version
    }
    EXPECT_EQ(failed, 0);
    EXPECT_TRUE(store.Sync().ok());
  }
  auto store = Open();
  auto snap = store->Load();
  ASSERT_TRUE(snap.ok());
  ASSERT_EQ(snap->gameservers.size(), 20u);
  for (const auto& gs : snap->gameservers) EXPECT_EQ(gs.meta.version, 50u) << gs.meta.name;
}

}  // namespace
}  // namespace muster::store
