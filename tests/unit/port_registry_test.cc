#include <gtest/gtest.h>

#include "core/port_registry.h"

namespace muster::core {
namespace {

const PortRegistry::HostProbe kNothingBound = [](int) { return false; };

TEST(PortRegistry, HandsOutEachPortOnceUntilExhausted) {
  PortRegistry reg({7000, 7004});
  std::set<int> got;
  for (int i = 0; i < 5; ++i) {
    auto p = reg.Allocate("gs-" + std::to_string(i), kNothingBound);
    ASSERT_TRUE(p.has_value());
    EXPECT_TRUE(got.insert(*p).second) << "port " << *p << " handed out twice";
    EXPECT_GE(*p, 7000);
    EXPECT_LE(*p, 7004);
  }
  EXPECT_FALSE(reg.Allocate("one-too-many", kNothingBound).has_value());
  EXPECT_EQ(reg.held(), 5u);
}

TEST(PortRegistry, FreedPortsAreReusedLastFirstRoundRobin) {
  PortRegistry reg({7000, 7002});
  int a = *reg.Allocate("a", kNothingBound);
  int b = *reg.Allocate("b", kNothingBound);
  reg.ReleaseAll("a");
  // The untouched port comes before the one just freed.
  int c = *reg.Allocate("c", kNothingBound);
  EXPECT_NE(c, a);
  EXPECT_NE(c, b);
  int d = *reg.Allocate("d", kNothingBound);
  EXPECT_EQ(d, a);
  EXPECT_FALSE(reg.Allocate("e", kNothingBound).has_value());
  reg.ReleaseAll("b");
  EXPECT_EQ(reg.Allocate("e", kNothingBound), b);
}

TEST(PortRegistry, SkipsPortsBoundByOtherProcesses) {
  PortRegistry reg({7000, 7003});
  std::set<int> bound_elsewhere = {7000, 7002};
  auto probe = [&](int p) { return bound_elsewhere.count(p) > 0; };
  EXPECT_EQ(reg.Allocate("a", probe), 7001);
  EXPECT_EQ(reg.Allocate("b", probe), 7003);
  EXPECT_FALSE(reg.Allocate("c", probe).has_value());
  bound_elsewhere.clear();
  EXPECT_EQ(reg.Allocate("c", probe), 7000);
}

TEST(PortRegistry, ClaimRebuildsAndRefusesCollisions) {
  PortRegistry reg({7000, 7001});
  EXPECT_TRUE(reg.Claim(7000, "a").ok());
  EXPECT_TRUE(reg.Claim(7000, "a").ok()) << "claiming again is idempotent";
  Status s = reg.Claim(7000, "b");
  EXPECT_EQ(s.code(), Code::kAlreadyExists);
  EXPECT_TRUE(reg.Claim(9999, "static").ok()) << "static ports may lie outside the range";
  EXPECT_EQ(reg.Allocate("c", kNothingBound), 7001);
  EXPECT_FALSE(reg.Allocate("d", kNothingBound).has_value());
  reg.ReleaseAll("a");
  reg.ReleaseAll("a");  // idempotent
  EXPECT_EQ(reg.Allocate("d", kNothingBound), 7000);
  EXPECT_TRUE(reg.IsHeld(9999));
}

}  // namespace
}  // namespace muster::core
