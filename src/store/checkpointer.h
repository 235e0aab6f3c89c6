// Copies the WAL back into the database file on a thread and connection of its own, so
// that commits do not wait for it. (SQLite's default runs a checkpoint inside the COMMIT
// that takes the WAL past 1,000 pages: every few hundred commits one answer would wait
// milliseconds more. Here the writer runs one only to start a full WAL over, before a
// commit; see Start.) The WAL is durable on its own; a checkpoint only bounds its size.
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
  // checkpoints whenever `pages` more pages have been written to the WAL.
  //
  // Under steady load these checkpoints never quite catch up with the writer, and a WAL
  // starts over from its first page only when everything in it has been copied: it
  // would grow without end, each flush of it also writing the file's new size. Once it
  // holds `start_over_pages`, the writer finishes the copy itself (StartOverIfDue: a
  // stall of a few milliseconds, every `start_over_pages` pages), so that its next
  // transaction starts the WAL over, in the same file.
  static core::StatusOr<std::unique_ptr<Checkpointer>> Start(const std::string& path, int pages,
                                                             int start_over_pages);
  ~Checkpointer();  // finishes the checkpoint under way, then stops

  // Attaches to the writing connection: after each of its commits SQLite reports the
  // WAL's size here (sqlite3_wal_hook), which wakes the thread past the threshold.
  void Watch(sqlite3* writer);
  // Call on the writer's thread before each write transaction. When the WAL has reached
  // the start-over size, copies what the thread has not, so that this transaction starts
  // the WAL over. (Here, not in the commit that reached the size: that commit's flush,
  // and the answers waiting for it, need not wait for the copy.)
  void StartOverIfDue(sqlite3* writer);
  // Checkpoints run so far by the thread.
  long done() const { return done_.load(); }
  // Copies StartOverIfDue has made so far, whether or not the WAL then started over.
  // REQUIRES: the writer's thread.
  long start_over_copies() const { return start_over_copies_; }

 private:
  Checkpointer(sqlite3* db, int pages, int start_over_pages)
      : db_(db),
        pages_(pages),
        start_over_pages_(start_over_pages),
        start_over_at_(start_over_pages) {}
  static int OnWal(void* self, sqlite3*, const char*, int pages);
  void Run();

  sqlite3* db_;
  const int pages_;
  const int start_over_pages_;
  // The writer's thread only: the WAL's size after its last commit, when the thread was
  // last asked to checkpoint, and at which the writer next tries to start it over.
  int last_pages_ = 0, asked_at_ = 0, start_over_at_;
  bool start_over_due_ = false;
  long start_over_copies_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  bool due_ = false, stop_ = false;
  std::atomic<bool> running_{false};  // a checkpoint is under way: no need to wake again
  std::atomic<long> done_{0};
  std::thread thread_;
};

}  // namespace muster::store
