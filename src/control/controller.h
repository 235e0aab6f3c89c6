// The control loop. One owner thread (the io_context passed in, run by exactly one
// thread) holds the World, runs the reconcilers of core/ and carries out their
// intents against the Store and the Runtime.
//
// Threading: every public method may be called from any thread; it posts to the
// owner thread. Callbacks run on the owner thread and must not block.
//
// Durability: a mutating call's callback runs only after its write is committed.
// Writes staged while the owner thread works through its queue are committed
// together in one transaction (group commit); then the change feed of that commit
// drives the next reconcile.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "control/world.h"
#include "core/clock.h"
#include "core/fleet_reconciler.h"
#include "core/port_registry.h"
#include "runtime/runtime.h"
#include "store/store.h"

namespace muster::control {

template <typename T>
using Callback = std::function<void(core::StatusOr<T>)>;
using Done = std::function<void(core::Status)>;

// The SDK layer's per-server endpoints, opened when a server gets its ports and
// closed when it is removed. Implemented in sdk/. Called on the owner thread.
class SdkEndpoints {
 public:
  virtual ~SdkEndpoints() = default;
  virtual core::Status Open(const core::GameServer& gs) = 0;
  virtual void Close(const std::string& name) = 0;
};

// A probe asking whether a port is bound on the host (runtime/host.h in production).
using PortProbe = std::function<bool(int port, core::Protocol protocol)>;

struct ControllerOptions {
  core::Node node;
  core::PortRange game_ports{7000, 8000};
  core::PortRange sdk_ports{9400, 11399};
  std::chrono::milliseconds health_sweep{500};
};

class Controller {
 public:
  Controller(boost::asio::io_context& owner, store::Store& store, runtime::Runtime& runtime,
             const core::Clock& clock, PortProbe probe, ControllerOptions options);
  ~Controller();

  // Loads the store, re-adopts running game servers, rebuilds the port registry,
  // opens SDK endpoints and starts reconciling. REQUIRES: the owner thread, once.
  core::Status Start(SdkEndpoints* sdk);

  // --- Management (any thread) ---
  // Creates or updates. A non-zero meta.version is a precondition (409 if stale).
  void ApplyFleet(core::Fleet desired, Callback<core::Fleet> done);
  void ScaleFleet(std::string name, int replicas, Callback<core::Fleet> done);
  void DeleteFleet(std::string name, Callback<core::Fleet> done);
  void GetFleet(std::string name, Callback<core::Fleet> done);
  void ListFleets(Callback<std::vector<core::Fleet>> done);
  void ApplyGameServer(core::GameServer desired, Callback<core::GameServer> done);
  void DeleteGameServer(std::string name, Callback<core::GameServer> done);
  void GetGameServer(std::string name, Callback<core::GameServer> done);
  // `fleet` empty = all servers.
  void ListGameServers(std::string fleet, Callback<std::vector<core::GameServer>> done);
  std::string ReadLogs(const std::string& name, uint64_t max_bytes) const;

  // --- SDK (any thread), on behalf of the named server ---
  void SdkReady(std::string name, Callback<core::GameServer> done);
  void SdkHealth(std::string name, Callback<bool> done);
  void SdkShutdown(std::string name, Callback<core::GameServer> done);

  // Stops every game-server process and calls `done` once none runs (records stay).
  // For `muster serve --stop-on-exit`.
  void StopAllProcesses(std::function<void()> done);

 private:
  // Owner-thread internals.
  void Stage(store::Change change, Done on_durable = nullptr);
  void StageServer(core::GameServer gs, Done on_durable = nullptr);
  void StageFleet(core::Fleet fleet, Done on_durable = nullptr);
  void Flush();
  void Reload();
  void OnCommitted(const std::vector<store::Change>& committed);
  void ScheduleReconcile();
  void ReconcileDirty();
  void ReconcileFleet(const std::string& name);
  void ReconcileServer(const std::string& name);
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
  bool reconcile_scheduled_ = false;
  std::set<std::string> dirty_fleets_;
  std::set<std::string> dirty_servers_;
  std::map<std::string, std::unique_ptr<boost::asio::steady_timer>> requeue_timers_;
  boost::asio::steady_timer health_timer_;
  bool stopping_all_ = false;  // StopAllProcesses ran: no restarts, no replacements
  std::function<void()> all_stopped_;
  std::mt19937_64 rng_;
};

}  // namespace muster::control
