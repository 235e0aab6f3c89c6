// Reconcilers: level-triggered and idempotent. They read a snapshot and return
// intents; the control loop (control/controller.cc) carries them out. Pure.
#pragma once

#include <string>
#include <vector>

#include "core/model.h"

namespace muster::core {

inline constexpr TimeMs kFirstBackoffMs = 1000;
inline constexpr TimeMs kMaxBackoffMs = 5 * 60 * 1000;

// What a fleet needs done so that `spec.replicas` servers are active.
struct FleetPlan {
  int create = 0;                       // new servers to stamp from the template
  std::vector<std::string> scale_down;  // servers to move to Shutdown (never Allocated/Reserved)
  std::vector<std::string> replace;     // Unhealthy/Error servers to delete (they are replaced)
  FleetStatus status;                   // the status the fleet should show
  TimeMs requeue_at_ms = 0;             // reconcile again at this time (backoff end); 0 = no need
};

// `servers` are the fleet's servers (any state, including ones being deleted).
//
// * Counts as active every server not Shutdown, Unhealthy or Error and not being deleted.
// * Creates what is missing, unless creation is backing off after start failures.
// * Scales down Creating first, then Starting, then Ready, newest first; never Allocated or
// Reserved.
// * Replaces Unhealthy and Error servers. One that failed before ever being Ready is a start
//   failure: failures back creation off exponentially (1 s doubling to 5 min) and the fleet's
//   status says why, instead of spinning in a hot loop. The first server to be Ready clears it.
FleetPlan ReconcileFleet(const Fleet& fleet, const std::vector<const GameServer*>& servers,
                         TimeMs now);

// What one game server needs from the runtime, given whether its process is running.
enum class ServerAction {
  kNone,
  kAssignPortsAndStart,  // Creating, not being deleted: assign ports, launch the process
                         // (a registered external server: SDK ports only, then Ready)
  kStop,        // being deleted or shut down, process still running: SIGTERM → grace → SIGKILL
  kFinalize,    // being deleted or shut down and no process: delete the record, free ports
  kMarkExited,  // process gone while one was expected: Unhealthy, reason ProcessExited
  kMarkUnhealthy,  // health deadline passed: Unhealthy, reason HealthCheckFailed
};

struct ServerObservation {
  bool process_running = false;
  bool health_deadline_passed = false;
};

ServerAction ReconcileServer(const GameServer& gs, const ServerObservation& seen);

// True if the server is on its way out: Shutdown, or deletion requested.
bool IsTerminating(const GameServer& gs);

// Whether `newcomer`, a server registered into `fleet` beside its `servers`, would stay:
// the fleet's next pass, counting it, does not pick it to scale down. (A pass takes the
// servers Muster started first; when none of those can go, all Allocated or Reserved, the
// newcomer would be removed at once.)
bool RegisteredWouldStay(const Fleet& fleet, std::vector<const GameServer*> servers,
                         const GameServer& newcomer, TimeMs now);

}  // namespace muster::core
