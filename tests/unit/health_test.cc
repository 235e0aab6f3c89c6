#include <gtest/gtest.h>

#include "core/health.h"

namespace muster::core {
namespace {

GameServer Server(GameServerState state) {
  GameServer gs;
  gs.status.state = state;
  gs.spec.mut().health = {false, 5, 2, 3};  // first check after 5 s; 3 periods of 2 s
  return gs;
}

TEST(Health, DeadlineCountsFromInitialDelayThenFromLastPing) {
  GameServer gs = Server(GameServerState::kReady);
  const TimeMs start = 1'000'000;
  EXPECT_EQ(HealthDeadline(gs, start, 0), start + 5'000 + 6'000);
  EXPECT_EQ(HealthDeadline(gs, start, start + 1'000), start + 11'000)
      << "early pings do not shorten the grace";
  EXPECT_EQ(HealthDeadline(gs, start, start + 20'000), start + 26'000);
  EXPECT_FALSE(HealthDeadlinePassed(gs, start, start + 20'000, start + 25'999));
  EXPECT_TRUE(HealthDeadlinePassed(gs, start, start + 20'000, start + 26'000));
}

TEST(Health, NotCheckedWhenDisabledOrNotRunningOrTerminating) {
  GameServer gs = Server(GameServerState::kReady);
  gs.spec.mut().health.disabled = true;
  EXPECT_EQ(HealthDeadline(gs, 0, 0), 0);
  for (auto s : {GameServerState::kCreating, GameServerState::kShutdown,
                 GameServerState::kUnhealthy, GameServerState::kError})
    EXPECT_FALSE(HealthDeadlinePassed(Server(s), 0, 0, 1'000'000'000)) << StateName(s);
  GameServer deleting = Server(GameServerState::kReady);
  deleting.meta.deletion_ms = 5;
  EXPECT_FALSE(HealthDeadlinePassed(deleting, 0, 0, 1'000'000'000));
  for (auto s : {GameServerState::kStarting, GameServerState::kReady, GameServerState::kReserved,
                 GameServerState::kAllocated})
    EXPECT_TRUE(HealthDeadlinePassed(Server(s), 0, 0, 1'000'000'000)) << StateName(s);
}

}  // namespace
}  // namespace muster::core
