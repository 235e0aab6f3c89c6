// Every one of the 64 (from, to) pairs, legal or not, checked against the lifecycle
// as docs/architecture.md describes it.
#include <set>
#include <utility>

#include <gtest/gtest.h>

#include "core/state_machine.h"

namespace muster::core {
namespace {

using S = GameServerState;

// clang-format off
const std::set<std::pair<S, S>> kLegal = {
    {S::kCreating, S::kStarting},   {S::kCreating, S::kShutdown},   {S::kCreating, S::kError},
    {S::kStarting, S::kReady},      {S::kStarting, S::kReserved},   {S::kStarting, S::kShutdown},
    {S::kStarting, S::kUnhealthy},  {S::kStarting, S::kError},
    {S::kReady, S::kReady},         {S::kReady, S::kReserved},      {S::kReady, S::kAllocated},
    {S::kReady, S::kShutdown},      {S::kReady, S::kUnhealthy},
    {S::kReserved, S::kReady},      {S::kReserved, S::kReserved},   {S::kReserved, S::kAllocated},
    {S::kReserved, S::kShutdown},   {S::kReserved, S::kUnhealthy},
    {S::kAllocated, S::kReady},     {S::kAllocated, S::kAllocated}, {S::kAllocated, S::kShutdown},
    {S::kAllocated, S::kUnhealthy},
    {S::kShutdown, S::kShutdown},   {S::kUnhealthy, S::kUnhealthy}, {S::kError, S::kError},
};
// clang-format on

TEST(StateMachine, EveryPairIsLegalExactlyWhenListed) {
  int legal = 0;
  for (S from : kAllStates) {
    for (S to : kAllStates) {
      bool want = kLegal.count({from, to}) > 0;
      EXPECT_EQ(CanTransition(from, to), want) << StateName(from) << " -> " << StateName(to);
      legal += want;
    }
  }
  EXPECT_EQ(legal, 25);
}

TEST(StateMachine, NothingLeavesTerminalStates) {
  for (S terminal : {S::kShutdown, S::kUnhealthy, S::kError})
    for (S to : kAllStates)
      if (to != terminal) EXPECT_FALSE(CanTransition(terminal, to)) << StateName(terminal);
}

TEST(StateMachine, AllocatedAndReservedAreNeverScaleDownCandidates) {
  EXPECT_FALSE(IsScaleDownCandidate(S::kAllocated));
  EXPECT_FALSE(IsScaleDownCandidate(S::kReserved));
  EXPECT_TRUE(IsScaleDownCandidate(S::kReady));
  EXPECT_TRUE(IsScaleDownCandidate(S::kStarting));
  EXPECT_TRUE(IsScaleDownCandidate(S::kCreating));
}

TEST(StateMachine, NamesRoundTrip) {
  for (S s : kAllStates) EXPECT_EQ(ParseState(StateName(s)), s);
  EXPECT_FALSE(ParseState("ready").has_value());
  EXPECT_FALSE(ParseState("").has_value());
}

}  // namespace
}  // namespace muster::core
