// SDK semantics on one GameServer value: labels and annotations with the SDK prefix,
// players, counters and lists, and that a refused call changes nothing.
#include <gtest/gtest.h>

#include "core/sdk_ops.h"

namespace muster::core {
namespace {

GameServer WithCountersAndLists() {
  GameServerSpec spec;
  spec.counters["rooms"] = {1, 5};
  spec.lists["maps"] = {3, {"dust"}};
  spec.initial_player_capacity = 2;
  GameServer gs;
  gs.meta.name = "gs-1";
  gs.spec = spec;
  InitStatusFromSpec(gs);
  return gs;
}

TEST(SdkOps, LabelsAndAnnotationsGetThePrefixAndKeysAreChecked) {
  GameServer gs;
  EXPECT_EQ(*SetSdkLabel(gs, "mode", "ranked"), true);
  EXPECT_EQ(gs.meta.labels.at("agones.dev/sdk-mode"), "ranked");
  EXPECT_EQ(*SetSdkLabel(gs, "mode", "ranked"), false) << "same value: unchanged";
  EXPECT_EQ(*SetSdkAnnotation(gs, "note", "any text, even spaces"), true);
  EXPECT_EQ(gs.meta.annotations.at("agones.dev/sdk-note"), "any text, even spaces");

  const GameServer before = gs;
  auto bad_key = SetSdkLabel(gs, "has space", "x");
  ASSERT_FALSE(bad_key.ok());
  EXPECT_EQ(bad_key.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(bad_key.status().field(), "key");
  auto bad_value = SetSdkLabel(gs, "ok", "not a label value!");
  EXPECT_EQ(bad_value.status().field(), "value");
  EXPECT_FALSE(SetSdkAnnotation(gs, "", "x").ok());
  EXPECT_FALSE(SetSdkAnnotation(gs, "a/b/c", "x").ok());
  EXPECT_EQ(gs, before);
}

TEST(SdkOps, PlayersConnectUpToCapacity) {
  GameServer gs = WithCountersAndLists();
  EXPECT_EQ(gs.status.player_capacity, 2);
  EXPECT_TRUE(*PlayerConnect(gs, "p1"));
  EXPECT_FALSE(*PlayerConnect(gs, "p1")) << "already connected";
  EXPECT_TRUE(*PlayerConnect(gs, "p2"));
  auto full = PlayerConnect(gs, "p3");
  EXPECT_EQ(full.status().code(), Code::kOutOfRange);
  EXPECT_EQ(gs.status.player_count, 2);
  EXPECT_EQ(gs.status.player_ids, (std::vector<std::string>{"p1", "p2"}));
  EXPECT_TRUE(*PlayerDisconnect(gs, "p1"));
  EXPECT_FALSE(*PlayerDisconnect(gs, "p1"));
  EXPECT_EQ(gs.status.player_count, 1);
  EXPECT_FALSE(SetPlayerCapacity(gs, -1).ok());
  EXPECT_TRUE(*SetPlayerCapacity(gs, 10));
  EXPECT_TRUE(SetConnectedPlayers(gs, {"a", "b", "a", ""}));
  EXPECT_EQ(gs.status.player_ids, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(gs.status.player_count, 2);
  EXPECT_TRUE(*SetPlayerCount(gs, 5));
  EXPECT_TRUE(gs.status.player_ids.empty()) << "ids that no longer add up are dropped";
}

TEST(SdkOps, CountersStayWithinCapacity) {
  GameServer gs = WithCountersAndLists();
  EXPECT_TRUE(*UpdateCounter(gs, "rooms", {.diff = 2}));
  EXPECT_EQ(gs.status.counters.at("rooms").count, 3);
  EXPECT_TRUE(*UpdateCounter(gs, "rooms", {.count = 0}));
  EXPECT_EQ(gs.status.counters.at("rooms").count, 0) << "a present zero count is applied";
  EXPECT_TRUE(*UpdateCounter(gs, "rooms", {.capacity = 10}));
  const GameServer before = gs;
  EXPECT_EQ(UpdateCounter(gs, "rooms", {.diff = -1}).status().code(), Code::kOutOfRange);
  EXPECT_EQ(UpdateCounter(gs, "rooms", {.diff = 11}).status().code(), Code::kOutOfRange);
  EXPECT_EQ(UpdateCounter(gs, "rooms", {.capacity = -1}).status().code(), Code::kOutOfRange);
  EXPECT_EQ(UpdateCounter(gs, "nope", {.diff = 1}).status().code(), Code::kNotFound);
  EXPECT_EQ(gs, before);
  EXPECT_FALSE(*UpdateCounter(gs, "rooms", {}));
  EXPECT_EQ(GetCounter(gs, "rooms")->capacity, 10);
  EXPECT_FALSE(GetCounter(gs, "nope").ok());
}

TEST(SdkOps, ListsRefuseDuplicatesAndOverflow) {
  GameServer gs = WithCountersAndLists();
  EXPECT_TRUE(*AddListValue(gs, "maps", "nuke"));
  EXPECT_EQ(AddListValue(gs, "maps", "nuke").status().code(), Code::kAlreadyExists);
  EXPECT_TRUE(*AddListValue(gs, "maps", "mirage"));
  EXPECT_EQ(AddListValue(gs, "maps", "inferno").status().code(), Code::kOutOfRange);
  EXPECT_EQ(RemoveListValue(gs, "maps", "inferno").status().code(), Code::kNotFound);
  EXPECT_TRUE(*RemoveListValue(gs, "maps", "dust"));
  EXPECT_EQ(gs.status.lists.at("maps").values, (std::vector<std::string>{"nuke", "mirage"}));
  EXPECT_TRUE(*UpdateList(gs, "maps", {.capacity = 1}));
  EXPECT_EQ(gs.status.lists.at("maps").values, (std::vector<std::string>{"nuke"}))
      << "a lowered capacity truncates";
  EXPECT_EQ(UpdateList(gs, "maps", {.capacity = 1001}).status().code(), Code::kOutOfRange);
  EXPECT_EQ(UpdateList(gs, "maps", {.values = std::vector<std::string>{"a", "b"}}).status().code(),
            Code::kOutOfRange);
  EXPECT_TRUE(
      *UpdateList(gs, "maps", {.capacity = 4, .values = std::vector<std::string>{"a", "a", "b"}}));
  EXPECT_EQ(GetList(gs, "maps")->values, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(AddListValue(gs, "nope", "x").status().code(), Code::kNotFound);
}

}  // namespace
}  // namespace muster::core
