#include "core/state_machine.h"

namespace muster::core {
namespace {

using S = GameServerState;
constexpr int I(S s) { return static_cast<int>(s); }

struct Row {
  S from;
  std::array<bool, kStateCount> to;  // indexed by the target state, in enum order
};

// clang-format off
// The whole lifecycle. Columns: Creating Starting Ready Reserved Allocated Shutdown Unhealthy Error
constexpr bool o = true, _ = false;
constexpr std::array<Row, kStateCount> kTable = {{
    //                    Cre Sta Rdy Res All Shu Unh Err
    {S::kCreating,       {_,  o,  _,  _,  _,  o,  _,  o}},
    {S::kStarting,       {_,  _,  o,  o,  _,  o,  o,  o}},
    {S::kReady,          {_,  _,  o,  o,  o,  o,  o,  _}},
    {S::kReserved,       {_,  _,  o,  o,  o,  o,  o,  _}},
    {S::kAllocated,      {_,  _,  o,  _,  o,  o,  o,  _}},
    {S::kShutdown,       {_,  _,  _,  _,  _,  o,  _,  _}},
    {S::kUnhealthy,      {_,  _,  _,  _,  _,  _,  o,  _}},
    {S::kError,          {_,  _,  _,  _,  _,  _,  _,  o}},
}};
// clang-format on

static_assert(
    [] {
      for (int i = 0; i < kStateCount; ++i)
        if (I(kTable[i].from) != i) return false;
      return true;
    }(),
    "kTable rows must be in enum order");

}  // namespace

const char* StateName(GameServerState s) {
  switch (s) {
    case S::kCreating: return "Creating";
    case S::kStarting: return "Starting";
    case S::kReady: return "Ready";
    case S::kReserved: return "Reserved";
    case S::kAllocated: return "Allocated";
    case S::kShutdown: return "Shutdown";
    case S::kUnhealthy: return "Unhealthy";
    case S::kError: return "Error";
  }
  return "Unknown";
}

std::optional<GameServerState> ParseState(const std::string& s) {
  for (S state : kAllStates)
    if (s == StateName(state)) return state;
  return std::nullopt;
}

bool CanTransition(GameServerState from, GameServerState to) { return kTable[I(from)].to[I(to)]; }

bool IsActive(GameServerState s) {
  return s != S::kShutdown && s != S::kUnhealthy && s != S::kError;
}

bool IsScaleDownCandidate(GameServerState s) {
  return s == S::kCreating || s == S::kStarting || s == S::kReady;
}

bool ExpectsProcess(GameServerState s) {
  return s == S::kStarting || s == S::kReady || s == S::kReserved || s == S::kAllocated;
}

}  // namespace muster::core
