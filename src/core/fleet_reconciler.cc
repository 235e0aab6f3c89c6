#include "core/fleet_reconciler.h"

#include <algorithm>

namespace muster::core {
namespace {

bool IsStartFailure(const GameServer& gs) {
  return gs.status.state == GameServerState::kError ||
         (gs.status.state == GameServerState::kUnhealthy && gs.status.ready_ms == 0);
}

// Lower sorts first for scale-down (after servers Muster started come registered ones;
// within each, by this rank, then the newest first).
int ScaleDownRank(GameServerState s) {
  switch (s) {
    case GameServerState::kCreating: return 0;
    case GameServerState::kStarting: return 1;
    default: return 2;  // Ready
  }
}

std::vector<std::string> PickScaleDown(std::vector<const GameServer*> candidates, int excess) {
  std::sort(candidates.begin(), candidates.end(), [](const GameServer* a, const GameServer* b) {
    int ra = ScaleDownRank(a->status.state), rb = ScaleDownRank(b->status.state);
    // A registered server (a developer's, in a debugger) goes last, whatever its state
    // (it is Creating until its commit is durable): registering one into a full fleet
    // takes the place of one Muster started, not of itself.
    if (a->external != b->external) return !a->external;
    if (ra != rb) return ra < rb;
    if (a->meta.created_ms != b->meta.created_ms) return a->meta.created_ms > b->meta.created_ms;
    return a->meta.name > b->meta.name;
  });
  std::vector<std::string> out;
  for (int i = 0; i < excess && i < static_cast<int>(candidates.size()); ++i)
    out.push_back(candidates[i]->meta.name);
  return out;
}

TimeMs BackoffFor(int failures) {
  TimeMs delay = kFirstBackoffMs;
  for (int i = 1; i < failures && delay < kMaxBackoffMs; ++i) delay *= 2;
  return std::min(delay, kMaxBackoffMs);
}

}  // namespace

bool IsTerminating(const GameServer& gs) {
  return gs.meta.deletion_ms != 0 || gs.status.state == GameServerState::kShutdown;
}

FleetPlan ReconcileFleet(const Fleet& fleet, const std::vector<const GameServer*>& servers,
                         TimeMs now) {
  FleetPlan plan;
  FleetStatus& st = plan.status;
  st = fleet.status;
  st.replicas = st.ready = st.allocated = st.reserved = 0;

  std::vector<const GameServer*> candidates;
  const GameServer* newest_failure = nullptr;
  int new_failures = 0;
  bool any_ready = false;
  for (const GameServer* gs : servers) {
    if (IsTerminating(*gs)) continue;
    const GameServerState s = gs->status.state;
    if (s == GameServerState::kUnhealthy || s == GameServerState::kError) {
      plan.replace.push_back(gs->meta.name);
      if (IsStartFailure(*gs)) {
        ++new_failures;
        if (!newest_failure || gs->status.state_since_ms > newest_failure->status.state_since_ms)
          newest_failure = gs;
      }
      continue;
    }
    ++st.replicas;
    if (s == GameServerState::kReady) ++st.ready;
    if (s == GameServerState::kAllocated) ++st.allocated;
    if (s == GameServerState::kReserved) ++st.reserved;
    if (gs->status.ready_ms != 0) any_ready = true;
    if (IsScaleDownCandidate(s)) candidates.push_back(gs);
  }

  if (new_failures > 0) {
    st.consecutive_failures += new_failures;
    st.backoff_until_ms = now + BackoffFor(st.consecutive_failures);
    st.reason =
        newest_failure->status.reason.empty() ? "StartFailed" : newest_failure->status.reason;
    st.message = "game server " + newest_failure->meta.name +
                 " failed before Ready: " + newest_failure->status.message + " (" +
                 std::to_string(st.consecutive_failures) + " in a row; retrying after backoff)";
  } else if (any_ready && st.consecutive_failures > 0) {
    st.consecutive_failures = 0;
    st.backoff_until_ms = 0;
    st.reason.clear();
    st.message.clear();
  }

  // A backoff began at the latest now, so it ends at the latest one backoff from now. A
  // later end means the system's time was set back since; waiting out the difference
  // would hold the fleet's starts for as long.
  if (st.consecutive_failures > 0)
    st.backoff_until_ms = std::min(st.backoff_until_ms, now + BackoffFor(st.consecutive_failures));

  const int want = fleet.spec.replicas;
  if (st.replicas < want) {
    if (st.backoff_until_ms > now) {
      plan.requeue_at_ms = st.backoff_until_ms;
    } else {
      plan.create = want - st.replicas;
    }
  } else if (st.replicas > want) {
    plan.scale_down = PickScaleDown(std::move(candidates), st.replicas - want);
  }
  return plan;
}

ServerAction ReconcileServer(const GameServer& gs, const ServerObservation& seen) {
  if (IsTerminating(gs))
    return seen.process_running ? ServerAction::kStop : ServerAction::kFinalize;
  const GameServerState s = gs.status.state;
  if (gs.external) {  // no process of ours: only registration and health apply
    if (s == GameServerState::kCreating) return ServerAction::kAssignPortsAndStart;
    if (ExpectsProcess(s) && seen.health_deadline_passed) return ServerAction::kMarkUnhealthy;
    return ServerAction::kNone;
  }
  if (s == GameServerState::kCreating) return ServerAction::kAssignPortsAndStart;
  if (ExpectsProcess(s)) {
    if (!seen.process_running) return ServerAction::kMarkExited;
    if (seen.health_deadline_passed) return ServerAction::kMarkUnhealthy;
    return ServerAction::kNone;
  }
  // Unhealthy or Error: a standalone server stays for inspection until deleted, a fleet's
  // is replaced by the fleet reconciler. Either way its process must not linger.
  if (seen.process_running) return ServerAction::kStop;
  return ServerAction::kNone;
}

bool RegisteredWouldStay(const Fleet& fleet, std::vector<const GameServer*> servers,
                         const GameServer& newcomer, TimeMs now) {
  servers.push_back(&newcomer);
  const FleetPlan plan = ReconcileFleet(fleet, servers, now);
  return std::find(plan.scale_down.begin(), plan.scale_down.end(), newcomer.meta.name) ==
         plan.scale_down.end();
}

}  // namespace muster::core
