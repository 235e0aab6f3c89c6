// The control loop. One owner thread (the io_context passed in, run by exactly one
// thread) holds the World, runs the reconcilers of core/ and carries out their
// intents against the Store and the Runtime.
//
// Threading: every public method may be called from any thread; it posts to the
// owner thread. Callbacks run on the owner thread and must not block.
//
// Durability: a mutating call's callback runs only after its write is committed and
// synced. Writes staged while the owner thread works through its queue are committed
// together in one transaction (group commit), written by the owner thread itself into
// the WAL: it never waits for a batch's flush (only the WAL's start-over, once per
// 32,768 pages, syncs on it). The syncer thread's disk flush of one batch overlaps the
// staging and writing of the next, and one flush covers every batch written before it
// began. Each batch, once durable, drives the next reconcile; batches complete in order.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "control/token_table.h"
#include "control/world.h"
#include "core/allocation.h"
#include "core/clock.h"
#include "core/fleet_reconciler.h"
#include "core/port_registry.h"
#include "runtime/runtime.h"
#include "store/store.h"

namespace muster::control {

template <typename T>
using Callback = std::function<void(core::StatusOr<T>)>;

// One page of a listing (Controller::ListGameServers).
struct ServerPage {
  std::vector<core::GameServer> servers;
  bool more = false;
};

// What an apply did, as kubectl says it.
enum class ApplyOutcome { kCreated, kConfigured, kUnchanged };
const char* ApplyOutcomeName(ApplyOutcome o);  // "created" | "configured" | "unchanged"
template <typename T>
struct Applied {
  T object;
  ApplyOutcome outcome;
};
using Done = std::function<void(core::Status)>;

// A waiter that answers `done` with `value` once the write it waits for is durable, or
// with the failure.
template <typename T>
Done Answer(Callback<T> done, T value) {
  return [done = std::move(done), value = std::move(value)](core::Status s) mutable {
    if (s.ok())
      done(std::move(value));
    else
      done(s);
  };
}

// The SDK layer's per-server endpoints, opened when a server gets its ports and
// closed when it is removed. Implemented in sdk/. Called on the owner thread.
class SdkEndpoints {
 public:
  virtual ~SdkEndpoints() = default;
  // Opens the server's endpoints; answers environment variables its process needs
  // to find them (beyond AGONES_SDK_GRPC_PORT and AGONES_SDK_HTTP_PORT).
  using Env = std::map<std::string, std::string>;
  // `fleet` is the server's fleet, or null.
  virtual core::StatusOr<Env> Open(const core::GameServer& gs, const core::Fleet* fleet) = 0;
  virtual void Close(const std::string& name) = 0;
};

// A probe asking whether a port is bound on the host (runtime/host.h in production).
using PortProbe = std::function<bool(int port, core::Protocol protocol)>;

// What an allocation answers: the server as allocated and the session it is for.
struct AllocationResult {
  core::GameServer server;
  std::string session_id;
  bool replayed = false;  // the sessionId had been answered before; same server again
};

struct ControllerOptions {
  core::Node node;
  TokenTable* tokens = nullptr;  // updated as tokens are created and revoked; may be null
  core::PortRange game_ports{7000, 8000};
  core::PortRange sdk_ports{9400, 11399};
  std::chrono::milliseconds health_sweep{500};
  std::chrono::milliseconds fleet_coalesce{5};  // fleet reconciles wait this long to batch
};

class Controller {
 public:
  // The owner thread alone calls Store::Commit (after Start). `syncer` is run by one
  // other thread; it calls Store::Sync while the owner thread stages and writes the next
  // batch (for a store that syncs in Commit, Sync costs nothing).
  Controller(boost::asio::io_context& owner, boost::asio::io_context& syncer, store::Store& store,
             runtime::Runtime& runtime, const core::Clock& clock, PortProbe probe,
             ControllerOptions options);
  ~Controller();

  // Loads the store, re-adopts running game servers, rebuilds the port registry,
  // opens SDK endpoints and starts reconciling. REQUIRES: the owner thread, once.
  core::Status Start(SdkEndpoints* sdk);

  // --- Management (any thread) ---
  // Creates or updates. A non-zero meta.version is a precondition (409 if stale).
  void ApplyFleet(core::Fleet desired, Callback<Applied<core::Fleet>> done);
  void ScaleFleet(std::string name, int replicas, Callback<core::Fleet> done);
  void DeleteFleet(std::string name, Callback<core::Fleet> done);
  void GetFleet(std::string name, Callback<core::Fleet> done);
  void ListFleets(Callback<std::vector<core::Fleet>> done);
  void ApplyGameServer(core::GameServer desired, Callback<Applied<core::GameServer>> done);
  void DeleteGameServer(std::string name, Callback<core::GameServer> done);
  void GetGameServer(std::string name, Callback<core::GameServer> done);
  // Up to `limit` servers by name, those after `after` ("" = from the first); `fleet`
  // empty = all servers. `more`: servers follow the last one. A listing in pages is not
  // one instant's picture: each page is read at its own moment.
  void ListGameServers(std::string fleet, std::string after, size_t limit,
                       Callback<ServerPage> done);
  // The tail of a server's log file. Any thread: it reads only the file.
  std::string ReadLogs(const std::string& name, uint64_t max_bytes) const;

  // --- Allocation (any thread) ---
  // Picks a server (core::AllocationIndex), moves it to Allocated with the request's
  // labels and annotations and records the session, all in one commit; answers once
  // durable. A known sessionId answers the same server (replayed). ResourceExhausted
  // when nothing matches; NotFound for an unknown fleet or buildID.
  void Allocate(core::AllocationRequest req, Callback<AllocationResult> done);

  // --- Nodes (any thread). In embedded mode this Muster's own node is the only one.
  void ListNodes(Callback<std::vector<core::Node>> done);
  void GetNode(std::string name, Callback<core::Node> done);
  // Plans maintenance of node `name` at `at` (0 clears the plan); answers the node once
  // durable. Game servers hear of it through their SDK (GSDK: nextScheduledMaintenanceUtc).
  void SetNodeMaintenance(std::string name, core::TimeMs at, Callback<core::Node> done);

  // --- Tokens (any thread) ---
  void CreateToken(core::ApiToken token, Callback<core::ApiToken> done);
  void ListTokens(Callback<std::vector<core::ApiToken>> done);
  void RevokeToken(std::string name, Callback<core::ApiToken> done);

  // --- SDK (any thread), on behalf of the named server (controller_sdk.cc) ---
  // State changes answer the server once durable. None leaves Unhealthy or Error, and
  // none acts on a server being deleted (FailedPrecondition).
  // Reserved for `seconds` (0 = until Ready/Allocate/Shutdown), then Ready again.
  void SdkReserve(std::string name, int64_t seconds, Callback<core::GameServer> done);
  // Self-allocation: Ready -> Allocated, stamping agones.dev/last-allocated.
  void SdkAllocate(std::string name, Callback<core::GameServer> done);
  // Starting/Reserved/Allocated -> Ready; clears the session (reuse) and any reservation.
  void SdkReady(std::string name, Callback<core::GameServer> done);
  void SdkHealth(std::string name, Callback<bool> done);
  // Where the named server's pings go, for endpoints that record them on their own
  // threads (see PingSlot). REQUIRES: the owner thread (SdkEndpoints::Open runs there).
  PingSlot PingSlotOf(const std::string& name);
  // For pings: the monotonic clock health is measured by. Thread-safe, as Clock is.
  core::TimeMs HealthNow() const { return clock_.MonotonicMs(); }
  void SdkShutdown(std::string name, Callback<core::GameServer> done);
  // The game reports itself broken (GSDK health Unhealthy, DGS health Failed): it is
  // Unhealthy, and a fleet replaces it.
  void SdkUnhealthy(std::string name, std::string message, Callback<core::GameServer> done);
  // An edit of a copy of the server (labels, players, counters, lists): `edit` runs on
  // the owner thread, must be pure, and answers whether it changed anything. A change
  // is staged and answered once durable; an error changes nothing.
  using ServerEdit = std::function<core::StatusOr<bool>(core::GameServer&)>;
  struct Edited {
    core::GameServer server;
    bool changed = false;
  };
  void SdkEdit(std::string name, ServerEdit edit, Callback<Edited> done);
  // Watches one server: `on_change` runs on the owner thread with the server at once,
  // then after every committed change to it; with nullptr when it is gone, after which
  // the watch has ended. Must not block. Returns the id for Unwatch.
  using ServerWatch = std::function<void(const core::GameServer*)>;
  uint64_t WatchServer(std::string name, ServerWatch on_change);
  void Unwatch(uint64_t id);

  // Stops every game-server process and calls `done` once none runs (records stay).
  // For `muster serve --stop-on-exit`.
  void StopAllProcesses(std::function<void()> done);

 private:
  // Owner-thread internals.
  void Stage(store::Change change, Done on_durable = nullptr);
  void StageServer(core::GameServer gs, Done on_durable = nullptr);
  void StageFleet(core::Fleet fleet, Done on_durable = nullptr);
  // What a durable batch tells the owner thread about each change in it.
  struct Touched {
    store::Kind kind;
    std::string name;
    std::string fleet;  // a game server's fleet
  };
  struct Batch {
    std::vector<store::Change> changes;
    std::vector<Done> waiters;
    core::Status status;
    bool sync_failed = false;  // written, but the disk did not flush it: fatal
    uint64_t seq = 0;          // order of writing, from 1
    std::vector<Touched> touched;
    std::chrono::steady_clock::time_point started;
    std::chrono::steady_clock::duration took{}, sync_took{};
  };
  // Commit statistics, logged at debug level every few seconds.
  struct CommitStats {
    long commits = 0, changes = 0;
    std::chrono::steady_clock::duration busy{}, syncing{};
    std::chrono::steady_clock::time_point since = std::chrono::steady_clock::now();
  };
  CommitStats commit_stats_;
  void ScheduleFlush();
  void Flush();
  void SyncAndFinish(std::shared_ptr<Batch> batch);  // syncer thread
  void OnCommitDone(Batch& batch);
  // Calls `done` once everything staged or written so far is durable (at once if it is).
  // An answer that changes nothing goes through here too: it rests on state the owner
  // thread already holds, which may not have reached the disk yet.
  void AfterDurable(Done done);
  void Replay(core::AllocationRequest req, Callback<AllocationResult> done);
  // Reserved servers whose reservation ended (timed on the monotonic clock; see
  // ReservationEnd) become Ready.
  void ExpireReservations();
  void SdkTransition(std::string name, core::GameServerState to, std::string reason,
                     std::string message, std::function<void(core::GameServer&)> prepare,
                     Callback<core::GameServer> done);
  void NotifyWatches(const std::string& name);
  void StartExternal(core::GameServer gs);
  void Reload();
  // This node's stored copy: its version and planned maintenance (0 when none is stored).
  // False if the stored copy differs from this node's facts (or there is none).
  bool AdoptStoredNode(const store::Snapshot& snap);
  void OnCommitted(const std::vector<Touched>& committed);
  void ScheduleReconcile();
  // Reconciles every dirty server but starts at most kStartsPerPass of them (a start:
  // ports, SDK endpoints, files, a process); the other starts wait in waiting_starts_
  // for later passes, so that allocations queued behind a pass wait for one start, not
  // for a whole scale-up.
  void ReconcileDirty();
  void ReconcileDirtyFleets();
  void ReconcileFleet(const std::string& name);
  // `starts`: made so far in this pass; a start beyond the quota is left waiting.
  void ReconcileServer(const std::string& name, int& starts);
  void AssignAndStart(core::GameServer gs);
  void Finalize(const core::GameServer& gs);
  void SetState(core::GameServer gs, core::GameServerState state, std::string reason,
                std::string message, Done on_durable = nullptr);
  void OnProcessExit(const runtime::ExitEvent& ev);
  void SweepHealth();
  void RequeueFleetAt(const std::string& name, core::TimeMs at);
  void ClaimPorts(const core::GameServer& gs);
  std::string NewServerName(const std::string& fleet);
  template <typename F>
  void OnOwner(F&& f);

  boost::asio::io_context& owner_;
  boost::asio::io_context& syncer_;
  store::Store& store_;
  runtime::Runtime& runtime_;
  const core::Clock& clock_;
  PortProbe probe_;
  ControllerOptions options_;
  SdkEndpoints* sdk_ = nullptr;

  World world_;
  core::PortRegistry game_ports_;
  core::PortRegistry sdk_ports_;
  std::vector<store::Change> staged_;
  std::vector<Done> waiters_;
  bool flush_scheduled_ = false;
  bool write_failed_ = false;             // holds every later batch until OnCommitDone
  int unsynced_batches_ = 0;              // written, not yet durable (answered in OnCommitDone)
  std::atomic<uint64_t> written_seq_{0};  // the last batch written (owner thread)
  uint64_t synced_seq_ = 0;               // the last batch known durable (syncer thread)
  static constexpr int kStartsPerPass = 1;
  bool reconcile_scheduled_ = false;
  bool fleet_reconcile_scheduled_ = false;
  std::set<std::string> dirty_fleets_;
  std::set<std::string> dirty_servers_;
  std::deque<std::string> waiting_starts_;  // oldest first; may name a server twice
  std::map<std::string, std::unique_ptr<boost::asio::steady_timer>> requeue_timers_;
  boost::asio::steady_timer health_timer_;
  boost::asio::steady_timer fleet_timer_;
  std::map<std::string, core::ApiToken> tokens_;  // by name
  bool stopping_all_ = false;  // StopAllProcesses ran: no restarts, no replacements
  std::function<void()> all_stopped_;
  std::mt19937_64 rng_;
  uint64_t node_version_ = 0;  // the stored version of options_.node
  std::atomic<uint64_t> next_watch_id_{0};
  std::map<std::string, std::map<uint64_t, ServerWatch>> watches_;  // by server name, then id
};

}  // namespace muster::control
