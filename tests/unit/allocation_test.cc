// The allocation engine: every selector form, each scheduling strategy on a
// multi-node layout, what is never allocatable, and request validation.
#include <gtest/gtest.h>

#include "core/allocation.h"

namespace muster::core {
namespace {

using S = GameServerState;

GameServer Server(const std::string& name, const std::string& node, S state, Labels labels = {},
                  const std::string& fleet = "f") {
  GameServer gs;
  gs.meta.name = name;
  gs.meta.labels = std::move(labels);
  gs.fleet = fleet;
  gs.status.node = node;
  gs.status.state = state;
  return gs;
}

AllocationRequest Want(std::vector<GameServerSelector> selectors = {},
                       std::optional<AllocationScheduling> scheduling = std::nullopt) {
  AllocationRequest r;
  r.selectors = std::move(selectors);
  r.scheduling = scheduling;
  return r;
}

GameServerSelector Labelled(Labels l, S state = S::kReady) {
  GameServerSelector s;
  s.match_labels = std::move(l);
  s.state = state;
  return s;
}

TEST(AllocationIndex, OnlyReadyOrAllocatedAndNotDeletingAreIndexed) {
  AllocationIndex idx;
  for (S s : kAllStates) idx.Update(Server(std::string("gs-") + StateName(s), "n1", s));
  GameServer deleting = Server("gs-deleting", "n1", S::kReady);
  deleting.meta.deletion_ms = 1;
  idx.Update(deleting);
  EXPECT_EQ(idx.size(), 2u);
  EXPECT_EQ(idx.Select(Want()), "gs-Ready") << "Reserved, Creating, Starting, Shutdown... never";
  idx.Update(Server("gs-Ready", "n1", S::kReserved));
  EXPECT_FALSE(idx.Select(Want()).has_value()) << "a Reserved server is not allocatable";
  EXPECT_EQ(idx.Select(Want({Labelled({}, S::kAllocated)})), "gs-Allocated");
  idx.Remove("gs-Allocated");
  EXPECT_FALSE(idx.Select(Want({Labelled({}, S::kAllocated)})).has_value());
}

TEST(AllocationIndex, MatchLabelsAndMatchExpressions) {
  AllocationIndex idx;
  idx.Update(Server("eu-1", "n1", S::kReady, {{"region", "eu"}, {"mode", "ranked"}}));
  idx.Update(Server("us-1", "n1", S::kReady, {{"region", "us"}, {"mode", "casual"}}));
  idx.Update(Server("ap-1", "n1", S::kReady, {{"region", "ap"}}));
  EXPECT_EQ(idx.Select(Want({Labelled({{"region", "us"}})})), "us-1");
  EXPECT_FALSE(idx.Select(Want({Labelled({{"region", "sa"}})})).has_value());

  auto expr = [](std::string key, LabelRequirement::Op op, std::vector<std::string> values = {}) {
    GameServerSelector s;
    s.match_expressions.push_back({std::move(key), op, std::move(values)});
    return s;
  };
  using Op = LabelRequirement::Op;
  EXPECT_EQ(idx.Select(Want({expr("region", Op::kIn, {"ap", "us"})})), "ap-1");
  EXPECT_EQ(idx.Select(Want({expr("region", Op::kNotIn, {"ap", "eu"})})), "us-1");
  EXPECT_EQ(idx.Select(Want({expr("mode", Op::kExists)})), "eu-1");
  EXPECT_EQ(idx.Select(Want({expr("mode", Op::kDoesNotExist)})), "ap-1");
  GameServerSelector both = expr("mode", Op::kExists);
  both.match_labels = {{"region", "us"}};
  EXPECT_EQ(idx.Select(Want({both})), "us-1");
  EXPECT_FALSE(idx.Select(Want({expr("mode", Op::kIn, {"solo"})})).has_value());
}

TEST(AllocationIndex, SelectorsAreTriedInOrder) {
  AllocationIndex idx;
  idx.Update(Server("stable-1", "n1", S::kReady, {{"version", "1.0"}}));
  idx.Update(Server("canary-1", "n1", S::kReady, {{"version", "1.1"}}));
  auto req = Want({Labelled({{"version", "2.0"}}), Labelled({{"version", "1.1"}}), Labelled({})});
  EXPECT_EQ(idx.Select(req), "canary-1") << "the first selector that matches anything wins";
  idx.Update(Server("canary-1", "n1", S::kAllocated, {{"version", "1.1"}}));
  EXPECT_EQ(idx.Select(req), "stable-1") << "then the next";
}

TEST(AllocationIndex, PlayersFilter) {
  AllocationIndex idx;
  GameServer full = Server("full", "n1", S::kAllocated);
  full.status.player_capacity = 10;
  full.status.player_count = 10;
  GameServer roomy = Server("roomy", "n1", S::kAllocated);
  roomy.status.player_capacity = 10;
  roomy.status.player_count = 4;
  idx.Update(full);
  idx.Update(roomy);
  GameServerSelector sel = Labelled({}, S::kAllocated);
  sel.players = PlayerFilter{1, 0};
  EXPECT_EQ(idx.Select(Want({sel})), "roomy");
  sel.players = PlayerFilter{7, 0};
  EXPECT_FALSE(idx.Select(Want({sel})).has_value());
  sel.players = PlayerFilter{0, 3};
  EXPECT_EQ(idx.Select(Want({sel})), "full");
  sel.players = PlayerFilter{6, 6};
  EXPECT_EQ(idx.Select(Want({sel})), "roomy");
}

TEST(AllocationIndex, CounterAndListFilters) {
  AllocationIndex idx;
  GameServer a = Server("a", "n1", S::kReady);
  a.status.counters["rooms"] = {2, 4};
  a.status.lists["maps"] = {3, {"dust", "nuke"}};
  GameServer b = Server("b", "n1", S::kReady);
  b.status.counters["rooms"] = {0, 4};
  b.status.lists["maps"] = {3, {}};
  GameServer plain = Server("c", "n1", S::kReady);  // declares neither
  for (const auto& gs : {a, b, plain}) idx.Update(gs);

  GameServerSelector sel;
  sel.counters["rooms"] = CounterFilter{1, 0, 0, 0};  // minCount 1
  EXPECT_EQ(idx.Select(Want({sel})), "a");
  sel.counters["rooms"] = CounterFilter{0, 1, 0, 0};  // maxCount 1
  EXPECT_EQ(idx.Select(Want({sel})), "b");
  sel.counters["rooms"] = CounterFilter{0, 0, 3, 0};  // minAvailable 3
  EXPECT_EQ(idx.Select(Want({sel})), "b");
  sel.counters["rooms"] = CounterFilter{0, 0, 5, 0};
  EXPECT_FALSE(idx.Select(Want({sel})).has_value());
  sel.counters.clear();
  sel.counters["missing"] = CounterFilter{};
  EXPECT_FALSE(idx.Select(Want({sel}))) << "a server without the counter never matches";

  GameServerSelector lists;
  lists.lists["maps"] = ListFilter{"nuke", 0, 0};
  EXPECT_EQ(idx.Select(Want({lists})), "a");
  lists.lists["maps"] = ListFilter{"", 2, 0};  // at least 2 free slots
  EXPECT_EQ(idx.Select(Want({lists})), "b");
  lists.lists["maps"] = ListFilter{"", 0, 1};  // at most 1 free slot
  EXPECT_EQ(idx.Select(Want({lists})), "a");
  lists.lists["maps"] = ListFilter{"inferno", 0, 0};
  EXPECT_FALSE(idx.Select(Want({lists})).has_value());
}

TEST(AllocationRequestValidation, CounterAndListBounds) {
  AllocationRequest r;
  GameServerSelector sel;
  sel.counters["rooms"] = CounterFilter{5, 2, 0, 0};
  sel.lists["maps"] = ListFilter{"", 4, 1};
  r.selectors = {sel};
  auto problems = Validate(r);
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0].field, "selectors[0].counters.rooms");
  EXPECT_EQ(problems[1].field, "selectors[0].lists.maps");
}

// Three nodes: "busy" has 3 Allocated and 1 Ready, "quiet" 0 Allocated and 2 Ready,
// "fresh" (the newest) 1 Allocated and 1 Ready.
class Scheduling : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 3; ++i)
      idx_.Update(Server("busy-a" + std::to_string(i), "busy", S::kAllocated));
    idx_.Update(Server("busy-r", "busy", S::kReady));
    idx_.Update(Server("quiet-r1", "quiet", S::kReady));
    idx_.Update(Server("quiet-r2", "quiet", S::kReady));
    idx_.Update(Server("fresh-a", "fresh", S::kAllocated));
    idx_.Update(Server("fresh-r", "fresh", S::kReady));
    idx_.SetNodeCreated("busy", 1000);
    idx_.SetNodeCreated("quiet", 2000);
    idx_.SetNodeCreated("fresh", 3000);
  }
  AllocationIndex idx_;
};

TEST_F(Scheduling, PackedFillsTheBusiestNode) {
  EXPECT_EQ(idx_.Select(Want({}, AllocationScheduling::kPacked)), "busy-r");
  EXPECT_EQ(idx_.Select(Want()), "busy-r") << "Packed is the default";
  idx_.Update(Server("busy-r", "busy", S::kAllocated));
  EXPECT_EQ(idx_.Select(Want({}, AllocationScheduling::kPacked)), "fresh-r")
      << "busy has no Ready left; fresh has more Allocated than quiet";
}

TEST_F(Scheduling, DistributedPicksTheLeastLoadedNode) {
  EXPECT_EQ(idx_.Select(Want({}, AllocationScheduling::kDistributed)), "quiet-r1");
}

TEST_F(Scheduling, NewestNodeDrainsOldNodes) {
  EXPECT_EQ(idx_.Select(Want({}, AllocationScheduling::kNewestNode)), "fresh-r");
  idx_.Remove("fresh-r");
  EXPECT_EQ(idx_.Select(Want({}, AllocationScheduling::kNewestNode)), "quiet-r1");
}

TEST_F(Scheduling, NodeLoadsFollowUpdates) {
  // Two allocations on quiet make it the busiest... no: busy still has 3. Four do.
  for (int i = 0; i < 4; ++i)
    idx_.Update(Server("quiet-x" + std::to_string(i), "quiet", S::kAllocated));
  EXPECT_EQ(idx_.Select(Want({}, AllocationScheduling::kPacked)), "quiet-r1");
  EXPECT_EQ(idx_.Select(Want({}, AllocationScheduling::kDistributed)), "fresh-r");
}

AllocationPriority By(AllocationPriority::Type type, const std::string& key,
                      AllocationPriority::Order order) {
  return AllocationPriority{type, key, order};
}

// Two nodes: "busy" holds 3 Allocated servers and Ready b0 (no counter), b1 (room 3 in
// "rooms"), b2 (room 1), b9 (room 40); "quiet" holds Ready q1 (room 0) and q2 (room 10).
TEST(AllocationIndex, PrioritiesOrderTheServersTheSelectorsAllow) {
  using T = AllocationPriority::Type;
  using O = AllocationPriority::Order;
  AllocationIndex idx;
  for (int i = 0; i < 3; ++i)
    idx.Update(Server("busy-a" + std::to_string(i), "busy", S::kAllocated));
  auto with_room = [](std::string name, std::string node, int64_t count, int64_t capacity) {
    GameServer gs = Server(std::move(name), std::move(node), S::kReady);
    gs.status.counters["rooms"] = {count, capacity};
    return gs;
  };
  idx.Update(Server("b0", "busy", S::kReady));
  idx.Update(with_room("b1", "busy", 1, 4));
  idx.Update(with_room("b2", "busy", 3, 4));
  idx.Update(with_room("b9", "busy", 0, 40));
  idx.Update(with_room("q1", "quiet", 4, 4));
  idx.Update(with_room("q2", "quiet", 0, 10));
  auto want = [](AllocationScheduling s, std::vector<AllocationPriority> p) {
    AllocationRequest r = Want({}, s);
    r.priorities = std::move(p);
    return r;
  };
  const auto packed = AllocationScheduling::kPacked;
  const auto spread = AllocationScheduling::kDistributed;
  EXPECT_EQ(idx.Select(want(packed, {})), "b0") << "without priorities: by name";
  // Packed keeps its node order; priorities order the servers on the node it picks.
  EXPECT_EQ(idx.Select(want(packed, {By(T::kCounter, "rooms", O::kAscending)})), "b2")
      << "the least room first, and a server without the counter last";
  EXPECT_EQ(idx.Select(want(packed, {By(T::kCounter, "rooms", O::kDescending)})), "b9");
  // Distributed orders every allowed server, wherever it is; the least loaded node
  // breaks ties.
  EXPECT_EQ(idx.Select(want(spread, {By(T::kCounter, "rooms", O::kAscending)})), "q1");
  EXPECT_EQ(idx.Select(want(spread, {By(T::kCounter, "rooms", O::kDescending)})), "b9")
      << "on the busier node, which Distributed looks at second";
  idx.Remove("b9");
  EXPECT_EQ(idx.Select(want(spread, {By(T::kCounter, "rooms", O::kDescending)})), "q2");
  EXPECT_EQ(idx.Select(want(packed, {By(T::kCounter, "rooms", O::kDescending)})), "b1");
  EXPECT_EQ(idx.Select(want(spread, {By(T::kCounter, "nobody-has-it", O::kAscending)})), "q1")
      << "a priority that tells none apart leaves the node order, then the name";

  // Equal on the first priority, the second decides; equal on all, the name does.
  AllocationIndex one_node;
  GameServer x1 = with_room("x1", "n", 1, 2), x2 = with_room("x2", "n", 1, 2);
  x1.status.lists["slots"] = {5, {"a", "b", "c"}};  // room 2
  x2.status.lists["slots"] = {5, {}};               // room 5
  one_node.Update(x1);
  one_node.Update(x2);
  const auto rooms = By(T::kCounter, "rooms", O::kAscending);
  EXPECT_EQ(one_node.Select(want(packed, {rooms, By(T::kList, "slots", O::kDescending)})), "x2");
  EXPECT_EQ(one_node.Select(want(packed, {rooms, By(T::kList, "slots", O::kAscending)})), "x1");
  EXPECT_EQ(one_node.Select(want(packed, {rooms})), "x1");

  // Nodes Packed cannot tell apart (equal loads) are one set: priorities pick across them.
  AllocationIndex even;
  even.Update(with_room("m1", "n1", 0, 5));
  even.Update(with_room("m2", "n2", 3, 5));
  EXPECT_EQ(even.Select(want(packed, {})), "m1");
  EXPECT_EQ(even.Select(want(packed, {rooms})), "m2") << "the least room, on the second node";

  AllocationRequest nameless = want(packed, {By(T::kList, "", O::kAscending)});
  auto problems = Validate(nameless);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].field, "priorities[0].key");
}

TEST(AllocationIndex, FleetRestrictionAndLabelClasses) {
  AllocationIndex idx;
  for (int i = 0; i < 100; ++i) {
    idx.Update(Server("a-" + std::to_string(i), "n1", S::kReady, {{"game", "x"}}, "a"));
    idx.Update(Server("b-" + std::to_string(i), "n1", S::kReady, {{"game", "x"}}, "b"));
  }
  EXPECT_EQ(idx.classes(), 2u) << "200 servers, 2 label classes: selectors are evaluated per class";
  AllocationRequest r = Want({Labelled({{"game", "x"}})});
  r.fleet = "b";
  EXPECT_EQ(idx.Select(r), "b-0");
  r.fleet = "c";
  EXPECT_FALSE(idx.Select(r).has_value());
}

// An update keeps a server's label class while its fleet and labels stay (an allocation
// changes only its state) and moves it when they change.
TEST(AllocationIndex, UpdatesFollowStateAndLabelChanges) {
  AllocationIndex idx;
  idx.Update(Server("gs-1", "n1", S::kReady, {{"mode", "ctf"}}));
  idx.Update(Server("gs-1", "n1", S::kAllocated, {{"mode", "ctf"}}));
  EXPECT_EQ(idx.classes(), 1u);
  EXPECT_EQ(idx.size(), 1u);
  EXPECT_FALSE(idx.Select(Want({Labelled({{"mode", "ctf"}})})).has_value()) << "not Ready now";
  EXPECT_EQ(idx.Select(Want({Labelled({{"mode", "ctf"}}, S::kAllocated)})), "gs-1");
  idx.Update(Server("gs-1", "n1", S::kAllocated, {{"mode", "koth"}}));  // relabelled
  EXPECT_EQ(idx.classes(), 1u) << "the class it left is empty: released";
  EXPECT_FALSE(idx.Select(Want({Labelled({{"mode", "ctf"}}, S::kAllocated)})).has_value());
  EXPECT_EQ(idx.Select(Want({Labelled({{"mode", "koth"}}, S::kAllocated)})), "gs-1");
  idx.Update(Server("gs-1", "n1", S::kAllocated, {{"mode", "koth"}}, "other"));  // another fleet
  AllocationRequest r = Want({Labelled({{"mode", "koth"}}, S::kAllocated)});
  r.fleet = "other";
  EXPECT_EQ(idx.Select(r), "gs-1");
  r.fleet = "f";
  EXPECT_FALSE(idx.Select(r).has_value());
  idx.Update(Server("gs-1", "n1", S::kShutdown, {{"mode", "koth"}}, "other"));
  EXPECT_EQ(idx.size(), 0u) << "no longer allocatable: dropped";
}

// Allocations that each add a label of their own (a match id) make a class per match:
// a class is released when it empties, and a selection of Ready servers never looks at
// the classes of Allocated ones.
TEST(AllocationIndex, AClassOfAMatchIsReleasedWhenItsLastServerGoes) {
  AllocationIndex idx;
  for (int i = 0; i < 1000; ++i)
    idx.Update(Server("gs-" + std::to_string(i), "n1", S::kReady, {{"game", "x"}}));
  EXPECT_EQ(idx.classes(), 1u);
  for (int i = 0; i < 1000; ++i) {  // every server allocated, with its match's label
    auto name = idx.Select(Want({Labelled({{"game", "x"}})}));
    ASSERT_TRUE(name.has_value()) << i;
    idx.Update(Server(*name, "n1", S::kAllocated, {{"game", "x"}, {"match", "m-" + *name}}));
  }
  EXPECT_EQ(idx.classes(), 1000u) << "one class per match while the matches run";
  EXPECT_FALSE(idx.Select(Want({Labelled({{"game", "x"}})})).has_value()) << "none Ready";
  EXPECT_EQ(idx.Select(Want({Labelled({{"match", "m-gs-7"}}, S::kAllocated)})), "gs-7")
      << "joining a running match still finds it";
  for (int i = 0; i < 1000; ++i) {  // the matches end: back to Ready, the match label kept
    const std::string name = "gs-" + std::to_string(i);
    idx.Update(Server(name, "n1", S::kReady, {{"game", "x"}, {"match", "m-" + name}}));
  }
  EXPECT_EQ(idx.classes(), 1000u);
  EXPECT_EQ(idx.Select(Want({Labelled({{"match", "m-gs-7"}})})), "gs-7");
  for (int i = 0; i < 1000; ++i) idx.Remove("gs-" + std::to_string(i));
  EXPECT_EQ(idx.classes(), 0u) << "every class released with its last server";
  idx.Update(Server("fresh", "n1", S::kReady, {{"game", "x"}}));
  EXPECT_EQ(idx.classes(), 1u);
  EXPECT_EQ(idx.Select(Want({Labelled({{"game", "x"}})})), "fresh") << "a reused slot works";
  EXPECT_FALSE(idx.Select(Want({Labelled({{"match", "m-gs-7"}})})).has_value())
      << "nothing of a released class lingers";
}

// Agones' allocation-time actions go as far as they can: counts are kept within
// [0, capacity], list values past the capacity are dropped, and what cannot be done at
// all is skipped and said, never failing the allocation.
TEST(AllocationActions, CountsAndListsMoveWithinTheirCapacities) {
  GameServer gs = Server("gs-1", "n1", S::kReady);
  gs.status.counters = {{"rooms", {8, 10}}, {"sessions", {1, 5}}};
  gs.status.lists = {{"maps", {3, {"dust", "nuke"}}}};
  AllocationRequest req;
  req.counter_actions = {{"rooms", {"Increment", 5, std::nullopt}},   // 13 -> capacity 10
                         {"sessions", {"Decrement", 1, int64_t{2}}},  // capacity, then count
                         {"missing", {"Increment", 1, std::nullopt}}};
  req.list_actions = {{"maps", {std::nullopt, {"nuke", "inferno", "mirage"}, {"dust"}}},
                      {"modes", {int64_t{3}, {"ctf"}, {}}}};
  auto skipped = ApplyAllocationActions(gs, req);
  EXPECT_EQ(gs.status.counters.at("rooms").count, 10);
  EXPECT_EQ(gs.status.counters.at("sessions").capacity, 2);
  EXPECT_EQ(gs.status.counters.at("sessions").count, 0);
  // "nuke" is there already; "mirage" is past the capacity of 3; then "dust" goes.
  EXPECT_EQ(gs.status.lists.at("maps").values, (std::vector<std::string>{"nuke", "inferno"}));
  EXPECT_EQ(skipped,
            (std::vector<std::string>{"counter missing: the game server has no such counter",
                                      "list modes: the game server has no such list"}));

  AllocationRequest bad;
  bad.counter_actions = {{"rooms", {"Decrement", 100, int64_t{-1}}}};
  bad.list_actions = {{"maps", {int64_t{1001}, {}, {}}}};
  skipped = ApplyAllocationActions(gs, bad);
  EXPECT_EQ(gs.status.counters.at("rooms").capacity, 10) << "a negative capacity is skipped";
  EXPECT_EQ(gs.status.counters.at("rooms").count, 0) << "the count still moves, floored at 0";
  EXPECT_EQ(gs.status.lists.at("maps").capacity, 3);
  EXPECT_EQ(skipped.size(), 2u);

  AllocationRequest extremes;  // a capacity below the count lowers it; no overflow
  extremes.counter_actions = {{"rooms", {"", 0, int64_t{2}}},
                              {"sessions", {"Increment", INT64_MAX, std::nullopt}}};
  gs.status.counters.at("rooms").count = 8;
  EXPECT_TRUE(ApplyAllocationActions(gs, extremes).empty());
  EXPECT_EQ(gs.status.counters.at("rooms").count, 2);
  EXPECT_EQ(gs.status.counters.at("sessions").count, 2);
}

// A server remembers the most recent joins of its session, in the order they came; the
// oldest go first. (Also a stored list longer than the bound, from before it, is cut.)
TEST(AllocationJoins, TheMostRecentJoinsAreRememberedAndTheOldestForgotten) {
  AllocationInfo info;
  for (size_t i = 0; i < kJoinsRemembered; ++i) RememberJoin(info, "j" + std::to_string(i));
  ASSERT_EQ(info.joined.size(), kJoinsRemembered) << "up to the bound, every join is kept";
  EXPECT_EQ(info.joined.front(), "j0");
  RememberJoin(info, "next");
  ASSERT_EQ(info.joined.size(), kJoinsRemembered);
  EXPECT_EQ(info.joined.front(), "j1") << "the oldest join is forgotten";
  EXPECT_EQ(info.joined.back(), "next");

  AllocationInfo stored;
  stored.joined.assign(kJoinsRemembered + 5, "old");
  RememberJoin(stored, "new");
  EXPECT_EQ(stored.joined.size(), kJoinsRemembered);
  EXPECT_EQ(stored.joined.back(), "new");
}

TEST(AllocationRequestValidation, NamesTheField) {
  AllocationRequest r;
  r.selectors.push_back(Labelled({{"bad key", "x"}}));
  GameServerSelector expr;
  expr.match_expressions.push_back({"k", LabelRequirement::Op::kIn, {}});
  expr.match_expressions.push_back({"k", LabelRequirement::Op::kExists, {"v"}});
  expr.players = PlayerFilter{5, 2};
  r.selectors.push_back(expr);
  r.labels = {{"ok", "bad value!"}};
  std::vector<std::string> fields;
  for (const auto& p : Validate(r)) fields.push_back(p.field);
  EXPECT_EQ(fields, (std::vector<std::string>{"selectors[0].matchLabels",
                                              "selectors[1].matchExpressions[0].values",
                                              "selectors[1].matchExpressions[1].values",
                                              "selectors[1].players", "metadata.labels.ok"}));
  EXPECT_TRUE(Validate(Want({Labelled({{"agones.dev/fleet", "f"}})})).empty());
}

}  // namespace
}  // namespace muster::core
