// The in-memory view of the store, owned by the control thread. Never shared:
// readers on other threads get copies.
#pragma once

#include <atomic>
#include <memory>

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/allocation.h"
#include "core/model.h"

namespace muster::control {

// What Muster knows about a server's process that is not stored.
// The time of a server's last health ping, written by SDK endpoints on their own
// threads (no trip to the owner thread per ping) and read by the health sweep.
using PingSlot = std::shared_ptr<std::atomic<core::TimeMs>>;

// A reservation's end: stored as a time of day (status.reserved_until_ms, which survives
// a restart), timed while Muster runs on the monotonic clock. `stored` says which stored
// end `monotonic_ms` stands for; when they differ (a new start, a reload), the end is
// derived again from the stored one.
struct ReservationEnd {
  core::TimeMs stored = 0;
  core::TimeMs monotonic_ms = 0;
};

// The times are on the monotonic clock (Clock::MonotonicMs): a change of the system's
// time neither fails every server's health at once nor postpones it, and neither ends a
// reservation early nor holds it late.
struct LiveState {
  core::TimeMs started_ms = 0;  // process start or re-adoption: health counts from here
  PingSlot ping = std::make_shared<std::atomic<core::TimeMs>>(0);  // 0 = none since start
  core::TimeMs last_ping_ms() const { return ping->load(std::memory_order_relaxed); }
  ReservationEnd reservation;
};

class World {
 public:
  const core::Fleet* FindFleet(const std::string& name) const;
  const core::GameServer* FindServer(const std::string& name) const;
  const std::map<std::string, core::Fleet>& fleets() const { return fleets_; }
  const std::map<std::string, core::GameServer>& servers() const { return servers_; }
  std::vector<const core::GameServer*> ServersOf(const std::string& fleet) const;
  // The same, by name, without a copy; nullptr when the fleet has no servers.
  const std::map<std::string, const core::GameServer*>* MembersOf(const std::string& fleet) const;

  void PutFleet(core::Fleet fleet);
  void EraseFleet(const std::string& name);
  void PutServer(core::GameServer gs);
  void EraseServer(const std::string& name);
  // Forgets everything stored, but not what is live (LiveState): the processes and the
  // ping slots their SDK endpoints write to are the same after a reload from the store.
  void Clear();
  // After a reload: the live state of servers the store no longer has goes.
  void DropLiveOfUnknownServers();

  LiveState& Live(const std::string& name) { return live_[name]; }

  // Allocatable servers, kept in step with every Put/Erase of a server (so two
  // allocations in one batch can never pick the same one).
  const core::AllocationIndex& index() const { return index_; }
  core::AllocationIndex& mutable_index() { return index_; }

  // The server a session is on: the status.allocation.sessionId of every server that is
  // Allocated and not being deleted, and the sessions that joined it (allocation.joined).
  // A session ends with its server's allocation (Shutdown, Unhealthy, back to Ready,
  // deleting), and its id is free again. Kept in step with Put/Erase, so it is rebuilt
  // from the store at start too.
  const core::GameServer* FindSession(const std::string& session_id) const;

  // The servers the periodic sweeps must look at, kept in step with Put/Erase so that
  // a sweep costs what it checks, not the size of the world: those whose health is
  // checked, and the Reserved ones with a deadline.
  const std::set<std::string>& health_checked() const { return health_checked_; }
  const std::set<std::string>& reserved_with_deadline() const { return reserved_with_deadline_; }

 private:
  std::map<std::string, core::Fleet> fleets_;
  std::map<std::string, core::GameServer> servers_;  // ordered: listings are by name
  // The same servers by name in O(1), for the hot path; keys view servers_' own keys
  // (map nodes stay put until erased, and an entry goes before its node).
  std::unordered_map<std::string_view, core::GameServer*> by_name_;
  // fleet -> its servers, pointing into servers_ (map nodes stay put until erased).
  std::unordered_map<std::string, std::map<std::string, const core::GameServer*>> members_;
  std::unordered_map<std::string, LiveState> live_;
  core::AllocationIndex index_;
  std::unordered_map<std::string, const core::GameServer*> sessions_;
  void IndexSessions(const core::GameServer& gs, bool add);  // its session and joined ones
  std::set<std::string> health_checked_;
  std::set<std::string> reserved_with_deadline_;
  void Track(const core::GameServer& gs);
};

}  // namespace muster::control
