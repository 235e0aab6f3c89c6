#include "store/checkpointer.h"

#include <pthread.h>
#include <sqlite3.h>

namespace muster::store {

core::StatusOr<std::unique_ptr<Checkpointer>> Checkpointer::Start(const std::string& path,
                                                                  int pages, int start_over_pages) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) !=
          SQLITE_OK ||
      sqlite3_exec(db, "PRAGMA synchronous=FULL", nullptr, nullptr, nullptr) != SQLITE_OK) {
    std::string why = db ? sqlite3_errmsg(db) : "no memory";
    sqlite3_close(db);
    return core::Status(core::Code::kInternal, "sqlite checkpointer: open " + path + ": " + why);
  }
  std::unique_ptr<Checkpointer> c(new Checkpointer(db, pages, start_over_pages));
  c->thread_ = std::thread([self = c.get()] { self->Run(); });
  return c;
}

Checkpointer::~Checkpointer() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  thread_.join();
  sqlite3_close(db_);
}

void Checkpointer::Watch(sqlite3* writer) { sqlite3_wal_hook(writer, &Checkpointer::OnWal, this); }

void Checkpointer::StartOverIfDue(sqlite3* writer) {
  if (!start_over_due_) return;
  start_over_due_ = false;
  ++start_over_copies_;
  // Everything copied: the transaction that follows starts the WAL over from its first page.
  sqlite3_wal_checkpoint_v2(writer, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
}

int Checkpointer::OnWal(void* arg, sqlite3*, const char*, int pages) {
  auto* self = static_cast<Checkpointer*>(arg);
  if (pages < self->last_pages_) {  // the WAL started over
    self->asked_at_ = 0;
    self->start_over_at_ = self->start_over_pages_;
    self->start_over_due_ = false;
  }
  self->last_pages_ = pages;
  if (pages >= self->start_over_pages_) {
    // Due: the writer's next StartOverIfDue copies what is left. If that cannot finish
    // (the thread is still copying, or another process reads old pages), it is due again
    // `pages_` pages later. The thread is not woken meanwhile: it would only hold the
    // lock the writer needs.
    if (pages >= self->start_over_at_) {
      self->start_over_due_ = true;
      self->start_over_at_ = pages + self->pages_;
    }
    return SQLITE_OK;
  }
  // `pages` counts every frame in the WAL. Under steady load a passive checkpoint never
  // catches up with the writer, so the WAL does not start over and stays past any fixed
  // size: count the pages written since the last checkpoint was asked for instead.
  if (pages - self->asked_at_ < self->pages_ || self->running_.load(std::memory_order_relaxed))
    return SQLITE_OK;
  self->asked_at_ = pages;
  {
    std::lock_guard lock(self->mu_);
    self->due_ = true;
  }
  self->cv_.notify_one();
  return SQLITE_OK;
}

void Checkpointer::Run() {
  ::pthread_setname_np(::pthread_self(), "muster-ckpt");
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return due_ || stop_; });
    if (stop_) return;
    due_ = false;
    running_ = true;
    lock.unlock();
    // PASSIVE: copies what it can without blocking the writer; the writer starts the WAL
    // over once everything in it has been copied.
    sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    running_ = false;
    ++done_;
    lock.lock();
  }
}

}  // namespace muster::store
