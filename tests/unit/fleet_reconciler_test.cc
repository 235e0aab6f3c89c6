// The fleet and server reconcilers, driven by a fake clock.
#include <algorithm>

#include <gtest/gtest.h>

#include "core/clock.h"
#include "core/fleet_reconciler.h"

namespace muster::core {
namespace {

using S = GameServerState;

class FakeClock : public Clock {
 public:
  TimeMs Now() const override { return now_; }
  TimeMs MonotonicMs() const override { return now_; }
  void Advance(TimeMs ms) { now_ += ms; }

 private:
  TimeMs now_ = 1'700'000'000'000;
};

class FleetReconcilerTest : public ::testing::Test {
 protected:
  FleetReconcilerTest() {
    fleet_.meta.name = "f";
    fleet_.spec.replicas = 3;
  }

  GameServer& Add(S state, TimeMs age_ms = 0, TimeMs ready_ms = 0) {
    GameServer gs;
    gs.meta.name = "f-" + std::to_string(servers_.size());
    gs.meta.created_ms = clock_.Now() - age_ms;
    gs.fleet = "f";
    gs.status.state = state;
    gs.status.state_since_ms = clock_.Now();
    gs.status.ready_ms = ready_ms;
    servers_.push_back(gs);
    return servers_.back();
  }

  FleetPlan Reconcile() {
    std::vector<const GameServer*> ptrs;
    for (const auto& gs : servers_) ptrs.push_back(&gs);
    FleetPlan plan = ReconcileFleet(fleet_, ptrs, clock_.Now());
    fleet_.status = plan.status;  // as the controller commits it
    return plan;
  }

  // What the controller does with a plan: replaced servers start terminating.
  void Carry(const FleetPlan& plan) {
    for (auto& gs : servers_) {
      if (std::count(plan.replace.begin(), plan.replace.end(), gs.meta.name))
        gs.meta.deletion_ms = clock_.Now();
      if (std::count(plan.scale_down.begin(), plan.scale_down.end(), gs.meta.name))
        gs.status.state = S::kShutdown;
    }
  }

  FakeClock clock_;
  Fleet fleet_;
  std::vector<GameServer> servers_;
};

TEST_F(FleetReconcilerTest, CreatesWhatIsMissing) {
  Add(S::kReady);
  FleetPlan plan = Reconcile();
  EXPECT_EQ(plan.create, 2);
  EXPECT_TRUE(plan.scale_down.empty());
  EXPECT_EQ(plan.status.replicas, 1);
  EXPECT_EQ(plan.status.ready, 1);
}

TEST_F(FleetReconcilerTest, ServersOnTheirWayOutDoNotCount) {
  Add(S::kShutdown);
  Add(S::kReady).meta.deletion_ms = clock_.Now();
  Add(S::kAllocated);
  EXPECT_EQ(Reconcile().create, 2);
  EXPECT_EQ(fleet_.status.allocated, 1);
}

TEST_F(FleetReconcilerTest, IsIdempotentOnceCarriedOut) {
  Add(S::kReady);
  Add(S::kReady);
  Add(S::kReady);
  FleetPlan plan = Reconcile();
  EXPECT_EQ(plan.create, 0);
  EXPECT_TRUE(plan.scale_down.empty());
  EXPECT_TRUE(plan.replace.empty());
  EXPECT_EQ(Reconcile().status, plan.status);
}

TEST_F(FleetReconcilerTest, ScalesDownCreatingThenStartingThenNewestReadyNeverAllocatedOrReserved) {
  const std::string old_ready = Add(S::kReady, 60'000).meta.name;
  const std::string new_ready = Add(S::kReady, 1'000).meta.name;
  const std::string starting = Add(S::kStarting).meta.name;
  const std::string creating = Add(S::kCreating).meta.name;
  Add(S::kAllocated, 1);
  Add(S::kReserved, 1);
  fleet_.spec.replicas = 3;  // 6 active: 3 must go
  FleetPlan plan = Reconcile();
  EXPECT_EQ(plan.scale_down, (std::vector<std::string>{creating, starting, new_ready}));

  fleet_.spec.replicas = 0;
  plan = Reconcile();
  EXPECT_EQ(plan.scale_down.size(), 4u) << "only the four candidates; Allocated and Reserved stay";
  for (const auto& name : plan.scale_down) EXPECT_NE(name.find("f-"), std::string::npos);
  EXPECT_EQ(std::count(plan.scale_down.begin(), plan.scale_down.end(), old_ready), 1);
  EXPECT_EQ(std::count(plan.scale_down.begin(), plan.scale_down.end(), "f-4"), 0);
  EXPECT_EQ(std::count(plan.scale_down.begin(), plan.scale_down.end(), "f-5"), 0);
}

TEST_F(FleetReconcilerTest, ARegisteredServerTakesThePlaceOfOneMusterStartedNotItsOwn) {
  const std::string older = Add(S::kReady, 60'000).meta.name;
  const std::string newer = Add(S::kReady, 30'000).meta.name;
  // The newest, and registered: Creating until its commit is durable, and still it goes last.
  GameServer& registered = Add(S::kCreating, 0);
  registered.external = true;
  fleet_.spec.replicas = 2;
  EXPECT_EQ(Reconcile().scale_down, (std::vector<std::string>{newer}));
  fleet_.spec.replicas = 0;
  EXPECT_EQ(Reconcile().scale_down, (std::vector<std::string>{newer, older, registered.meta.name}))
      << "it goes last, but it goes";
}

// A registered server may join a full fleet only if one of Muster's own servers can make
// room for it; otherwise the next pass would remove the newcomer itself.
TEST_F(FleetReconcilerTest, ARegisteredServerJoinsAFullFleetOnlyIfOneOfMustersCanMakeRoom) {
  GameServer newcomer;
  newcomer.meta.name = "dev-box";
  newcomer.fleet = "f";
  newcomer.external = true;
  newcomer.status.state = S::kCreating;
  auto room = [&] {
    std::vector<const GameServer*> ptrs;
    for (const auto& gs : servers_) ptrs.push_back(&gs);
    return RegisteredWouldStay(fleet_, ptrs, newcomer, clock_.Now());
  };
  fleet_.spec.replicas = 2;
  Add(S::kAllocated);
  EXPECT_TRUE(room()) << "below its replicas";
  Add(S::kReserved);
  EXPECT_FALSE(room()) << "full, and neither server may be stopped";
  Add(S::kUnhealthy);
  Add(S::kReady).meta.deletion_ms = clock_.Now();
  EXPECT_FALSE(room()) << "failed and terminating servers are no replicas and make no room";
  GameServer& other = Add(S::kReady);
  other.external = true;
  EXPECT_FALSE(room()) << "another registered server is not stopped for it either";
  Add(S::kStarting);
  EXPECT_FALSE(room()) << "one of Muster's could go, but three would be over";
  fleet_.spec.replicas = 3;
  EXPECT_FALSE(room()) << "two over, one to stop";
  fleet_.spec.replicas = 4;
  EXPECT_TRUE(room()) << "the Starting one makes room";
  fleet_.spec.replicas = 0;
  EXPECT_FALSE(room());
}

TEST_F(FleetReconcilerTest, ReplacesUnhealthyServersThatHadBeenReadyWithoutBackoff) {
  Add(S::kReady);
  Add(S::kReady);
  const std::string sick = Add(S::kUnhealthy, 0, clock_.Now() - 5'000).meta.name;
  FleetPlan plan = Reconcile();
  EXPECT_EQ(plan.replace, std::vector<std::string>{sick});
  EXPECT_EQ(plan.create, 1);
  EXPECT_EQ(plan.status.consecutive_failures, 0);
  EXPECT_EQ(plan.requeue_at_ms, 0);
}

TEST_F(FleetReconcilerTest, StartFailuresBackOffExponentiallyAndSayWhy) {
  fleet_.spec.replicas = 1;
  TimeMs expected_delay = kFirstBackoffMs;
  for (int failure = 1; failure <= 12; ++failure) {
    GameServer& bad = Add(S::kError);
    bad.status.reason = "StartFailed";
    bad.status.message = "cannot start /x: No such file or directory";
    FleetPlan plan = Reconcile();
    EXPECT_EQ(plan.create, 0) << "no new server while backing off";
    EXPECT_EQ(plan.status.consecutive_failures, failure);
    EXPECT_EQ(plan.status.reason, "StartFailed");
    EXPECT_NE(plan.status.message.find("No such file"), std::string::npos);
    EXPECT_EQ(plan.requeue_at_ms, clock_.Now() + expected_delay) << "failure " << failure;
    Carry(plan);
    // Before the backoff ends: still nothing. At its end: one new attempt.
    clock_.Advance(expected_delay - 1);
    EXPECT_EQ(Reconcile().create, 0);
    clock_.Advance(1);
    EXPECT_EQ(Reconcile().create, 1);
    clock_.Advance(0);
    expected_delay = std::min(expected_delay * 2, kMaxBackoffMs);
  }
  EXPECT_EQ(expected_delay, kMaxBackoffMs);
}

// The system's time is set back an hour during a backoff: the backoff still ends one
// backoff from now, not an hour and a backoff later.
TEST_F(FleetReconcilerTest, ABackoffOutlastsNoStepBackOfTheSystemsTime) {
  fleet_.spec.replicas = 1;
  Add(S::kError).status.reason = "StartFailed";
  FleetPlan plan = Reconcile();
  ASSERT_EQ(plan.requeue_at_ms, clock_.Now() + kFirstBackoffMs);
  Carry(plan);
  clock_.Advance(-3'600'000);
  plan = Reconcile();
  EXPECT_EQ(plan.create, 0) << "still backing off";
  EXPECT_EQ(plan.requeue_at_ms, clock_.Now() + kFirstBackoffMs);
  clock_.Advance(kFirstBackoffMs);
  EXPECT_EQ(Reconcile().create, 1);
}

TEST_F(FleetReconcilerTest, ExitBeforeReadyIsAStartFailureAndReadyClearsIt) {
  fleet_.spec.replicas = 1;
  Add(S::kUnhealthy).status.message = "the process exited with code 1";
  FleetPlan plan = Reconcile();
  EXPECT_EQ(plan.status.consecutive_failures, 1);
  Carry(plan);
  clock_.Advance(kFirstBackoffMs);
  Add(S::kReady, 0, clock_.Now());
  plan = Reconcile();
  EXPECT_EQ(plan.status.consecutive_failures, 0);
  EXPECT_TRUE(plan.status.message.empty());
  EXPECT_EQ(plan.status.backoff_until_ms, 0);
}

TEST(ServerReconciler, ActionsForEveryCase) {
  GameServer gs;
  auto act = [&](S state, bool running, bool deadline = false, bool deleting = false) {
    gs.status.state = state;
    gs.meta.deletion_ms = deleting ? 1 : 0;
    return ReconcileServer(gs, {running, deadline});
  };
  using A = ServerAction;
  EXPECT_EQ(act(S::kCreating, false), A::kAssignPortsAndStart);
  EXPECT_EQ(act(S::kCreating, false, false, true), A::kFinalize);
  EXPECT_EQ(act(S::kReady, true), A::kNone);
  EXPECT_EQ(act(S::kReady, false), A::kMarkExited);
  EXPECT_EQ(act(S::kAllocated, true, true), A::kMarkUnhealthy);
  EXPECT_EQ(act(S::kStarting, false), A::kMarkExited);
  EXPECT_EQ(act(S::kShutdown, true), A::kStop);
  EXPECT_EQ(act(S::kShutdown, false), A::kFinalize);
  EXPECT_EQ(act(S::kReady, true, false, true), A::kStop);
  EXPECT_EQ(act(S::kUnhealthy, true), A::kStop);
  EXPECT_EQ(act(S::kUnhealthy, false), A::kNone) << "a standalone server stays for inspection";
  EXPECT_EQ(act(S::kError, false), A::kNone);
  EXPECT_EQ(act(S::kUnhealthy, false, false, true), A::kFinalize);
}

}  // namespace
}  // namespace muster::core
