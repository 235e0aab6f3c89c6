// The source of truth. Embedded mode: SQLite (sqlite_store.h); Kubernetes mode: the
// API server. Everything above talks to this interface.
#pragma once

#include <functional>
#include <string>
#include <variant>
#include <vector>

#include "core/model.h"

namespace muster::store {

enum class Kind { kFleet, kGameServer, kNode, kToken };
const char* KindName(Kind kind);

// One write in a commit. `expected_version` is the version the writer read: 0 means
// "must not exist yet". A put stores the object with version expected_version + 1.
// A GameServer's spec is immutable once created: updates of one store its metadata and
// status only (which keeps the frequent state changes small).
struct Change {
  enum class Op { kPut, kDelete };
  Op op = Op::kPut;
  Kind kind = Kind::kGameServer;
  std::string name;
  uint64_t expected_version = 0;
  std::variant<std::monostate, core::Fleet, core::GameServer, core::Node, core::ApiToken>
      object;  // for kPut (and, for the change feed, the deleted object when known)

  static Change Put(core::Fleet f);
  static Change Put(core::GameServer gs);
  static Change Put(core::Node n, uint64_t expected_version);
  static Change Put(core::ApiToken t);  // tokens are written once
  static Change Delete(Kind kind, std::string name, uint64_t expected_version);
};

struct Snapshot {
  std::vector<core::Fleet> fleets;
  std::vector<core::GameServer> gameservers;
  std::vector<core::Node> nodes;
  std::vector<uint64_t> node_versions;  // parallel to `nodes`
  std::vector<core::ApiToken> tokens;
  // Rows that could not be read ("GameServer solo: why"): left in the database untouched,
  // and not in the snapshot. The caller says so loudly.
  std::vector<std::string> unreadable;
};

// A committed batch, as the change feed delivers it: objects carry their new versions.
using ChangeFeedHandler = std::function<void(const std::vector<Change>& committed)>;

class Store {
 public:
  virtual ~Store() = default;

  // Reads every object. REQUIRES: the owner thread.
  virtual core::StatusOr<Snapshot> Load() = 0;

  // Commits all changes or none. Aborted (naming the object) when a version
  // precondition fails; Internal when the disk does. On success each put's object
  // carries its new version and every subscriber has been called with the batch
  // before Commit returns. The commit is durable on return, unless the store defers
  // syncing: then once a Sync() that began after it returns. REQUIRES: one thread
  // at a time.
  virtual core::Status Commit(std::vector<Change>& changes) = 0;

  // Makes every commit that has returned durable. May run on another thread while the
  // next Commit writes (that is its point: the disk flush of one batch overlaps the
  // writing of the next). Internal when the disk fails, after which nothing written
  // since the last successful Sync can be trusted. A no-op for stores that sync in Commit.
  virtual core::Status Sync() { return core::OkStatus(); }

  // The change feed. Handlers run on the committing thread, in commit order, as Commit
  // returns: with deferred syncing that is before the batch is durable. (The
  // controller answers and reconciles from its own durable batches instead.)
  virtual void Subscribe(ChangeFeedHandler handler) = 0;
};

}  // namespace muster::store
