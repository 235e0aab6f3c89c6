// Copies the WAL back into the database file on a thread and connection of its own, so
// that no commit waits for it. (SQLite's default runs a checkpoint inside the COMMIT
// that takes the WAL past 1,000 pages: every few hundred commits one answer would wait
// milliseconds more.) The WAL is durable on its own; a checkpoint only bounds its size.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/status.h"

struct sqlite3;

namespace muster::store {

class Checkpointer {
 public:
  // Opens a second connection to the database at `path` (already in WAL mode) and
  // checkpoints whenever the WAL has reached `pages` pages.
  static core::StatusOr<std::unique_ptr<Checkpointer>> Start(const std::string& path, int pages);
  ~Checkpointer();  // finishes the checkpoint under way, then stops

  // Attaches to the writing connection: after each of its commits SQLite reports the
  // WAL's size here (sqlite3_wal_hook), which wakes the thread past the threshold.
  void Watch(sqlite3* writer);
  // Checkpoints run so far.
  long done() const { return done_.load(); }

 private:
  Checkpointer(sqlite3* db, int pages) : db_(db), pages_(pages) {}
  static int OnWal(void* self, sqlite3*, const char*, int pages);
  void Run();

  sqlite3* db_;
  const int pages_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool due_ = false, stop_ = false;
  std::atomic<bool> running_{false};  // a checkpoint is under way: no need to wake again
  std::atomic<long> done_{0};
  std::thread thread_;
};

}  // namespace muster::store
