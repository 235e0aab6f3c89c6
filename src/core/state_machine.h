// The GameServer lifecycle: one transition table that every other part asks.
// See docs/architecture.md#state-machine. Pure.
#pragma once

#include <array>
#include <optional>
#include <string>

namespace muster::core {

enum class GameServerState {
  kCreating,   // record exists, ports being assigned
  kStarting,   // process launched, waiting for the server's Ready
  kReady,      // warm; may be allocated
  kReserved,   // held: not allocatable, not scaled down
  kAllocated,  // a session is on it; never scaled down
  kShutdown,   // asked to stop; deleted once the process is gone
  kUnhealthy,  // missed health checks or exited; will be replaced
  kError,      // could not be started
};
inline constexpr int kStateCount = 8;
inline constexpr std::array<GameServerState, kStateCount> kAllStates = {
    GameServerState::kCreating,  GameServerState::kStarting,  GameServerState::kReady,
    GameServerState::kReserved,  GameServerState::kAllocated, GameServerState::kShutdown,
    GameServerState::kUnhealthy, GameServerState::kError};

const char* StateName(GameServerState s);
std::optional<GameServerState> ParseState(const std::string& s);

// True if `from` may become `to`. A state "moving" to itself is legal only where
// the SDK call is idempotent (Ready→Ready, Allocated→Allocated, Reserved→Reserved).
bool CanTransition(GameServerState from, GameServerState to);

// States that count against a fleet's replicas (not on their way out).
bool IsActive(GameServerState s);
// States the fleet reconciler may pick for scale-down (never Allocated or Reserved).
bool IsScaleDownCandidate(GameServerState s);
// States in which a process is expected to be running.
bool ExpectsProcess(GameServerState s);

}  // namespace muster::core
