// The Agones allocator REST door and the Thundernetes door, request and response
// JSON checked field by field against the shapes in ../shared/reference/.
#include <fstream>
#include <map>
#include <tuple>

#include <gtest/gtest.h>

#include "api/auth.h"
#include "support/muster_process.h"
#include "support/poll.h"

namespace muster::testing {
namespace {
using namespace std::chrono_literals;

const char* kBuild = "7b2a1c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";

class Doors : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(muster_.Start());
    json fleet = EchoFleet("door", 3);
    fleet["spec"]["buildID"] = kBuild;
    fleet["spec"]["template"]["spec"]["ports"][0]["containerPort"] = 7777;
    fleet["spec"]["template"]["spec"]["counters"] = {{"rooms", {{"count", 1}, {"capacity", 10}}}};
    fleet["spec"]["template"]["spec"]["lists"] = {
        {"maps", {{"capacity", 5}, {"values", {"dust"}}}}};
    int status = 0;
    muster_.Call("POST", "/v1/fleets", fleet, &status);
    ASSERT_EQ(status, 201);
    ASSERT_TRUE(PollUntil([&] { return muster_.InState("door", "Ready").size() == 3; }, 30s));
    node_ = muster_.InState("door", "Ready")[0]["status"]["nodeName"];
    address_ = muster_.InState("door", "Ready")[0]["status"]["address"];
  }
  api::HttpResult Post(const std::string& path, const json& body,
                       const std::string& method = "POST") {
    return muster_.Raw(method, path, body.dump());
  }
  MusterProcess muster_{{"28400-28499", "28500-28699", {}}};
  std::string node_, address_;
};

TEST_F(Doors, AgonesAllocationRequestAndResponse) {
  json req = json::parse(R"({
    "namespace": "default",
    "gameServerSelectors": [
      {"matchLabels": {"agones.dev/fleet": "door", "missing": "label"}},
      {"matchLabels": {"agones.dev/fleet": "door"}, "gameServerState": "READY", "players": {"minAvailable": "0", "maxAvailable": "100"}}
    ],
    "scheduling": "Packed",
    "metadata": {"labels": {"match": "m-1"}, "annotations": {"map": "de_dust2"}}
  })");
  auto res = Post("/gameserverallocation", req);
  ASSERT_EQ(res.status, 200) << res.body;
  json a = json::parse(res.body);
  ASSERT_TRUE(a["gameServerName"].is_string());
  const std::string name = a["gameServerName"];
  json gs = muster_.Call("GET", "/v1/gameservers/" + name);
  EXPECT_EQ(a["address"], address_);
  EXPECT_EQ(a["nodeName"], node_);
  EXPECT_EQ(a["source"], "local");
  ASSERT_EQ(a["ports"].size(), 1u);
  EXPECT_EQ(a["ports"][0]["name"], "game");
  EXPECT_EQ(a["ports"][0]["port"], gs["status"]["ports"][0]["port"]);
  ASSERT_EQ(a["addresses"].size(), 1u);
  EXPECT_EQ(a["addresses"][0]["address"], address_);
  EXPECT_TRUE(a["addresses"][0]["type"].is_string());
  // Counters and lists, numbers as the gateway writes an Int64Value: strings.
  EXPECT_EQ(a["counters"], json::parse(R"({"rooms":{"capacity":"10","count":"1"}})"));
  EXPECT_EQ(a["lists"], json::parse(R"({"maps":{"capacity":"5","values":["dust"]}})"));
  EXPECT_EQ(a["metadata"]["labels"]["match"], "m-1");
  EXPECT_EQ(a["metadata"]["labels"]["agones.dev/fleet"], "door");
  EXPECT_EQ(a["metadata"]["annotations"]["map"], "de_dust2");
  EXPECT_TRUE(a["metadata"]["annotations"].contains("agones.dev/last-allocated"));
  // Applied to the server in the same commit.
  EXPECT_EQ(gs["status"]["state"], "Allocated");
  EXPECT_EQ(gs["metadata"]["labels"]["match"], "m-1");
  EXPECT_EQ(gs["metadata"]["annotations"]["map"], "de_dust2");

  // Joining a running session: gameServerState ALLOCATED finds it by its new label.
  auto join = Post(
      "/gameserverallocation",
      json::parse(
          R"({"gameServerSelectors":[{"matchLabels":{"match":"m-1"},"gameServerState":"ALLOCATED"}]})"));
  ASSERT_EQ(join.status, 200) << join.body;
  EXPECT_EQ(json::parse(join.body)["gameServerName"], name);
}

TEST_F(Doors, AgonesDeprecatedSelectorsSchedulingNumbersAnd429) {
  auto res = Post("/gameserverallocation", json::parse(R"({
    "requiredGameServerSelector": {"matchLabels": {"agones.dev/fleet": "door"}},
    "preferredGameServerSelectors": [{"matchLabels": {"game": "nope"}}],
    "scheduling": 1, "metaPatch": {"labels": {"old": "style"}}})"));
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(json::parse(res.body)["metadata"]["labels"]["old"], "style");
  // A preferred selector stands alone, as in Agones: it need not match the required one.
  // (It joins the session just made, so every Ready server is left for what follows.)
  auto preferred = Post("/gameserverallocation", json::parse(R"({
    "requiredGameServerSelector": {"matchLabels": {"game": "nope"}},
    "preferredGameServerSelectors": [{"matchLabels": {"agones.dev/fleet": "door"},
                                      "gameServerState": "ALLOCATED"}]})"));
  ASSERT_EQ(preferred.status, 200) << preferred.body;
  EXPECT_EQ(json::parse(preferred.body)["gameServerName"], json::parse(res.body)["gameServerName"]);
  // As Agones' gateway: unknown fields are dropped (a client built for a newer Agones
  // still allocates), and null is "not set" (what Go's encoder writes for an unset
  // message), empty maps and lists too.
  auto newer = Post("/gameserverallocation", json::parse(R"({
    "namespace": "default", "multiClusterSetting": null, "requiredGameServerSelector": null,
    "preferredGameServerSelectors": [], "priorities": [], "counters": {}, "lists": {},
    "metaPatch": null, "metadata": {"labels": null, "annotations": {}, "futureField": 1},
    "gameServerSelectors": [{"matchLabels": {"agones.dev/fleet": "door"}, "players": null,
                             "counters": {}, "lists": {}, "futureSelector": {"x": 1}}],
    "futureTopLevel": "yes"})"));
  ASSERT_EQ(newer.status, 200) << newer.body;
  // Counter and list actions change the allocated server in its allocation's commit,
  // as far as they can (a count stays within its capacity); the answer shows the result.
  auto action = Post("/gameserverallocation", json::parse(R"({
    "counters": {"rooms": {"action": "Increment", "amount": "20"}},
    "lists": {"maps": {"addValues": ["nuke", "dust"], "capacity": "4", "deleteValues": []}}})"));
  ASSERT_EQ(action.status, 200) << action.body;
  json acted = json::parse(action.body);
  EXPECT_EQ(acted["counters"]["rooms"], json::parse(R"({"capacity":"10","count":"10"})"));
  EXPECT_EQ(acted["lists"]["maps"], json::parse(R"({"capacity":"4","values":["dust","nuke"]})"));
  json stored =
      muster_.Call("GET", "/v1/gameservers/" + acted["gameServerName"].get<std::string>());
  EXPECT_EQ(stored["status"]["counters"]["rooms"]["count"], 10);
  EXPECT_EQ(stored["status"]["lists"]["maps"]["values"], json::array({"dust", "nuke"}));
  auto bad_action = Post("/gameserverallocation",
                         json::parse(R"({"counters": {"rooms": {"action": "Double"}}})"));
  EXPECT_EQ(bad_action.status, 400) << bad_action.body;
  EXPECT_EQ(json::parse(bad_action.body)["field"], "counters.rooms.action");
  auto none = Post("/gameserverallocation", json::object());
  EXPECT_EQ(none.status, 429);
  EXPECT_EQ(none.headers["retry-after"], "1");
  EXPECT_EQ(json::parse(none.body)["error"], "ResourceExhausted");
  // grpc-gateway's fields too: the gRPC code (RESOURCE_EXHAUSTED) and no details.
  EXPECT_EQ(json::parse(none.body)["code"], 8);
  EXPECT_EQ(json::parse(none.body)["details"], json::array());
  EXPECT_FALSE(json::parse(none.body)["message"].get<std::string>().empty());
  auto bad_state = Post("/gameserverallocation",
                        json::parse(R"({"gameServerSelectors":[{"gameServerState":"BUSY"}]})"));
  EXPECT_EQ(bad_state.status, 400);
  EXPECT_EQ(json::parse(bad_state.body)["field"], "gameServerSelectors[0].gameServerState");
}

TEST_F(Doors, ThundernetesAllocate) {
  const std::string session = "0f0e0d0c-0b0a-4908-8706-050403020100";
  json req = {{"buildID", kBuild},
              {"sessionID", session},
              {"sessionCookie", "cookie!"},
              {"initialPlayers", {"alice", "bob"}}};
  auto res = Post("/api/v1/allocate", req);
  ASSERT_EQ(res.status, 200) << res.body;
  json a = json::parse(res.body);
  EXPECT_EQ(a.size(), 3u) << res.body;
  EXPECT_EQ(a["IPV4Address"], address_);
  EXPECT_EQ(a["SessionID"], session);
  // "containerPort:hostPort"
  std::string ports = a["Ports"];
  ASSERT_EQ(ports.rfind("7777:", 0), 0u) << ports;
  int host_port = std::stoi(ports.substr(5));
  json allocated = muster_.InState("door", "Allocated");
  ASSERT_EQ(allocated.size(), 1u);
  EXPECT_EQ(allocated[0]["status"]["ports"][0]["port"], host_port);
  EXPECT_EQ(allocated[0]["status"]["allocation"]["sessionId"], session);
  EXPECT_EQ(allocated[0]["status"]["allocation"]["sessionCookie"], "cookie!");
  EXPECT_EQ(allocated[0]["status"]["allocation"]["initialPlayers"], json::array({"alice", "bob"}));
  // Idempotent, also through PATCH.
  auto again = Post("/api/v1/allocate", req, "PATCH");
  ASSERT_EQ(again.status, 200);
  EXPECT_EQ(json::parse(again.body), a);
  EXPECT_EQ(muster_.InState("door", "Allocated").size(), 1u);
}

TEST_F(Doors, ThundernetesErrors) {
  auto status_of = [&](const json& body) { return Post("/api/v1/allocate", body).status; };
  EXPECT_EQ(
      status_of({{"buildID", "not-a-uuid"}, {"sessionID", "0f0e0d0c-0b0a-4908-8706-050403020100"}}),
      400);
  EXPECT_EQ(status_of({{"buildID", kBuild}, {"sessionID", "12"}}), 400);
  EXPECT_EQ(status_of({{"buildID", kBuild}}), 400);
  EXPECT_EQ(status_of({{"buildID", "00000000-0000-4000-8000-000000000000"},
                       {"sessionID", "0f0e0d0c-0b0a-4908-8706-050403020100"}}),
            404);
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(status_of({{"buildID", kBuild},
                         {"sessionID", "0f0e0d0c-0b0a-4908-8706-05040302010" + std::to_string(i)}}),
              200);
  EXPECT_EQ(status_of({{"buildID", kBuild}, {"sessionID", "0f0e0d0c-0b0a-4908-8706-050403020109"}}),
            429);
  EXPECT_EQ(Post("/api/v1/allocate", {{"buildID", kBuild}}, "GET").status, 405);
}

// The native door takes the same counter and list actions, in its strict form: a
// misspelt field is a 400 naming it, and nothing is allocated.
TEST_F(Doors, NativeAllocationAppliesCounterAndListActions) {
  auto typo =
      muster_.Raw("POST", "/v1/allocations",
                  R"({"fleet":"door","counters":{"rooms":{"action":"Decrement","amont":1}}})");
  EXPECT_EQ(typo.status, 400) << typo.body;
  EXPECT_EQ(json::parse(typo.body)["field"], "counters.rooms.amont");
  EXPECT_EQ(muster_.InState("door", "Ready").size(), 3u);

  auto res = muster_.Raw("POST", "/v1/allocations", R"({"fleet":"door",
      "counters":{"rooms":{"action":"Decrement","amount":1}},
      "lists":{"maps":{"addValues":["nuke"]}}})");
  ASSERT_EQ(res.status, 201) << res.body;
  json gs = muster_.Call(
      "GET", "/v1/gameservers/" + json::parse(res.body)["gameServer"].get<std::string>());
  EXPECT_EQ(gs["status"]["counters"]["rooms"]["count"], 0);
  EXPECT_EQ(gs["status"]["lists"]["maps"]["values"], json::array({"dust", "nuke"}));
}

// `priorities` order the servers the selectors allow by the room left in a counter or
// list: Ascending fills the fullest first, Descending the emptiest. Agones' door also
// takes the enums' numbers.
TEST_F(Doors, PrioritiesPickByTheRoomLeftInBothDoors) {
  // Three sessions, on servers allocated in name order, leave room (capacity - count, or
  // capacity - values) as below: no order by room is the order by name.
  //   server  rooms (count 1 of 10)  maps (1 value of 5)
  //   s[0]    5                      2
  //   s[1]    1                      4
  //   s[2]    10                     1
  std::vector<std::string> s;
  for (const auto& [action, amount, maps] :
       std::vector<std::tuple<std::string, int, std::vector<std::string>>>{
           {"Increment", 4, {"a", "b"}}, {"Increment", 8, {}}, {"Decrement", 1, {"a", "b", "c"}}}) {
    json actions = {{"fleet", "door"},
                    {"counters", {{"rooms", {{"action", action}, {"amount", amount}}}}},
                    {"lists", {{"maps", {{"addValues", maps}}}}}};
    auto res = Post("/v1/allocations", actions);
    ASSERT_EQ(res.status, 201) << res.body;
    s.push_back(json::parse(res.body)["gameServer"]);
  }
  auto native = [&](const json& priority) {
    return Post("/v1/allocations", {{"fleet", "door"},
                                    {"selectors", {{{"gameServerState", "Allocated"}}}},
                                    {"priorities", {priority}}});
  };
  auto picked = [](const api::HttpResult& res, const char* field) {
    EXPECT_TRUE(res.status == 200 || res.status == 201) << res.body;
    return json::parse(res.body).value(field, std::string());
  };
  EXPECT_EQ(
      picked(native({{"type", "Counter"}, {"key", "rooms"}, {"order", "Ascending"}}), "gameServer"),
      s[1]);
  EXPECT_EQ(picked(native({{"type", "Counter"}, {"key", "rooms"}, {"order", "Descending"}}),
                   "gameServer"),
            s[2]);
  EXPECT_EQ(
      picked(native({{"type", "List"}, {"key", "maps"}, {"order", "Descending"}}), "gameServer"),
      s[1]);

  auto agones = [&](const json& priority) {
    return Post("/gameserverallocation",
                {{"gameServerSelectors",
                  {{{"matchLabels", {{"agones.dev/fleet", "door"}}}, {"gameServerState", 1}}}},
                 {"priorities", {priority}}});
  };
  // type Counter and order Ascending: the enums' zeros, also when left out.
  EXPECT_EQ(picked(agones({{"key", "rooms"}}), "gameServerName"), s[1]);
  EXPECT_EQ(picked(agones({{"type", 0}, {"key", "rooms"}, {"order", 1}}), "gameServerName"), s[2]);
  EXPECT_EQ(
      picked(agones({{"type", 1}, {"key", "maps"}, {"order", "Ascending"}}), "gameServerName"),
      s[2]);
  EXPECT_EQ(picked(agones({{"type", "List"}, {"key", "maps"}, {"order", 1}}), "gameServerName"),
            s[1]);

  // Malformed: 400 naming the field, nothing allocated.
  const json before = muster_.InState("door", "Allocated");
  for (const auto& [bad, field] : std::vector<std::pair<json, std::string>>{
           {{{"key", "rooms"}}, "priorities[0].type"},
           {{{"type", 0}, {"key", "rooms"}}, "priorities[0].type"},  // names only, natively
           {{{"type", "Counter"}, {"key", "rooms"}, {"order", "Up"}}, "priorities[0].order"},
           {{{"type", "Gauge"}, {"key", "rooms"}}, "priorities[0].type"},
           {{{"type", "List"}}, "priorities[0].key"},
       }) {
    auto refused = native(bad);
    EXPECT_EQ(refused.status, 400) << refused.body;
    EXPECT_EQ(json::parse(refused.body)["field"], field) << refused.body;
  }
  auto refused = agones({{"type", 2}, {"key", "rooms"}});
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_EQ(json::parse(refused.body)["field"], "priorities[0].type") << refused.body;
  EXPECT_EQ(muster_.InState("door", "Allocated"), before) << "no session joined any server";
}

// Thundernetes reads its request with Go's encoding/json: field names match ignoring
// case (a PascalCase client is the same request), and an empty id is a 400, never a
// server of any build or a made-up session.
TEST_F(Doors, ThundernetesFieldNamesIgnoreCaseAndEmptyIdsAreRefused) {
  auto empty_build = Post("/api/v1/allocate",
                          {{"buildID", ""}, {"sessionID", "0f0e0d0c-0b0a-4908-8706-050403020100"}});
  EXPECT_EQ(empty_build.status, 400) << empty_build.body;
  EXPECT_EQ(json::parse(empty_build.body)["field"], "buildID");
  auto empty_session = Post("/api/v1/allocate", {{"buildID", kBuild}, {"sessionID", ""}});
  EXPECT_EQ(empty_session.status, 400) << empty_session.body;
  EXPECT_EQ(json::parse(empty_session.body)["field"], "sessionID");
  EXPECT_EQ(muster_.InState("door", "Ready").size(), 3u) << "nothing allocated";

  const std::string session = "0f0e0d0c-0b0a-4908-8706-0504030201aa";
  auto pascal = Post("/api/v1/allocate", {{"BuildID", kBuild},
                                          {"SessionID", session},
                                          {"SessionCookie", "c"},
                                          {"InitialPlayers", {"alice"}}});
  ASSERT_EQ(pascal.status, 200) << pascal.body;
  EXPECT_EQ(json::parse(pascal.body)["SessionID"], session);
  json allocated = muster_.InState("door", "Allocated");
  ASSERT_EQ(allocated.size(), 1u);
  EXPECT_EQ(allocated[0]["status"]["allocation"]["sessionCookie"], "c");
  EXPECT_EQ(allocated[0]["status"]["allocation"]["initialPlayers"], json::array({"alice"}));
  // A key given twice: the last one, as Go's encoding/json reads it.
  const std::string last = "0f0e0d0c-0b0a-4908-8706-0504030201bb";
  auto twice = muster_.Raw("POST", "/api/v1/allocate",
                           std::string(R"({"buildID":")") + kBuild +
                               R"(","sessionID":"not-a-uuid","sessionID":")" + last + R"("})");
  ASSERT_EQ(twice.status, 200) << twice.body;
  EXPECT_EQ(json::parse(twice.body)["SessionID"], last);
}

TEST_F(Doors, BadInputChangesNothing) {
  auto check = [&](const std::string& path, const std::string& body, int want,
                   const std::string& field, bool token = true) {
    auto res = muster_.Raw("POST", path, body, "application/json", token);
    EXPECT_EQ(res.status, want) << path << " " << res.body;
    if (!field.empty()) EXPECT_EQ(json::parse(res.body)["field"], field) << res.body;
    EXPECT_EQ(muster_.InState("door", "Ready").size(), 3u) << "nothing may change";
  };
  check("/v1/allocations", R"({"fleet":"nope"})", 404, "fleet");
  check("/v1/allocations",
        R"({"selectors":[{"matchExpressions":[{"key":"a","operator":"Like"}]}]})", 400,
        "selectors[0].matchExpressions[0].operator");
  check("/v1/allocations", R"({"selectors":[{"matchLabels":{"bad key":"x"}}]})", 400,
        "selectors[0].matchLabels");
  check("/v1/allocations", R"({"selectors":{"not":"a list"}})", 400, "selectors");
  check("/v1/allocations", R"({"sessionId":"s","extra":1})", 400, "extra");
  check("/v1/allocations", R"({"fleet":"door","sessionId":""})", 400, "sessionId");
  // A number or a boolean where a string belongs is an error, not its text.
  check("/v1/allocations", R"({"fleet":"door","metadata":{"labels":{"tier":true}}})", 400,
        "metadata.labels.tier");
  check("/v1/allocations", R"({"fleet":"door","metadata":{"annotations":{"n":1.5}}})", 400,
        "metadata.annotations.n");
  check("/v1/allocations", R"({"selectors":[{"matchLabels":{"game":1}}]})", 400,
        "selectors[0].matchLabels.game");
  check("/v1/allocations", R"({"fleet":"door","initialPlayers":[7,false]})", 400,
        "initialPlayers[0]");
  check("/gameserverallocation", R"({"gameServerSelectors":[{"matchLabels":{"game":1}}]})", 400,
        "gameServerSelectors[0].matchLabels.game");
  check("/gameserverallocation", R"({"gameServerSelectors":[{"gameServerState":4294967296}]})", 400,
        "gameServerSelectors[0].gameServerState");  // not READY (0) cut to 32 bits
  // A key given twice is refused where it is, not last-wins (Agones' gateway refuses one
  // too); Thundernetes takes the last, as Go's encoding/json does.
  check("/v1/allocations", R"({"fleet":"door","sessionId":"a","sessionId":"b"})", 400, "sessionId");
  check("/v1/allocations",
        R"({"selectors":[{"matchLabels":{"game":"echo"}},{"matchLabels":{"a":"1","a":"2"}}]})", 400,
        "selectors[1].matchLabels.a");
  check("/gameserverallocation",
        R"({"gameServerSelectors":[{"gameServerState":0,"gameServerState":1}]})", 400,
        "gameServerSelectors[0].gameServerState");
  check("/v1/allocations", "{not json", 400, "body");
  check("/v1/allocations", std::string(70000, ' ') + "{}", 413, "body");
  check("/v1/allocations", "{}", 401, "Authorization", /*token=*/false);
}

TEST_F(Doors, ARepeatedSessionIsNotAnsweredFromAnotherFleetOrBuild) {
  const char* kOtherBuild = "00000000-0000-4000-8000-0000000000aa";
  json other = EchoFleet("other", 0);
  other["spec"]["buildID"] = kOtherBuild;
  int status = 0;
  muster_.Call("POST", "/v1/fleets", other, &status);
  ASSERT_EQ(status, 201);
  const std::string session = "0f0e0d0c-0b0a-4908-8706-0504030201ff";
  ASSERT_EQ(Post("/v1/allocations", {{"fleet", "door"}, {"sessionId", session}}).status, 201);
  EXPECT_EQ(Post("/v1/allocations", {{"fleet", "door"}, {"sessionId", session}}).status, 200);
  auto wrong_fleet = Post("/v1/allocations", {{"fleet", "other"}, {"sessionId", session}});
  EXPECT_EQ(wrong_fleet.status, 409) << wrong_fleet.body;
  EXPECT_EQ(json::parse(wrong_fleet.body)["field"], "sessionId");
  EXPECT_NE(wrong_fleet.body.find("of fleet door, not of fleet other"), std::string::npos)
      << wrong_fleet.body;
  auto wrong_build = Post("/api/v1/allocate", {{"buildID", kOtherBuild}, {"sessionID", session}});
  EXPECT_EQ(wrong_build.status, 409) << wrong_build.body;
  EXPECT_EQ(Post("/api/v1/allocate", {{"buildID", kBuild}, {"sessionID", session}}).status, 200);
  EXPECT_EQ(muster_.InState("door", "Allocated").size(), 1u) << "nothing more was allocated";
}

TEST_F(Doors, ABuildIdNamesOneFleetAndMatchesInAnyCase) {
  json twin = EchoFleet("twin", 0);
  twin["spec"]["buildID"] = kBuild;
  auto refused = muster_.Raw("POST", "/v1/fleets", twin.dump());
  EXPECT_EQ(refused.status, 409) << refused.body;
  EXPECT_EQ(json::parse(refused.body)["field"], "spec.buildID");
  int status = 0;
  muster_.Call("GET", "/v1/fleets/twin", nullptr, &status);
  EXPECT_EQ(status, 404) << "nothing was created";
  std::string upper = kBuild;
  for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  auto res = Post("/api/v1/allocate",
                  {{"buildID", upper}, {"sessionID", "0f0e0d0c-0b0a-4908-8706-0504030201aa"}});
  EXPECT_EQ(res.status, 200) << res.body;
}

TEST_F(Doors, TokenRequestsOfTheWrongShapeAre400AndChangeNothing) {
  auto check = [&](const std::string& body, const std::string& field) {
    auto res = muster_.Raw("POST", "/v1/tokens", body);
    EXPECT_EQ(res.status, 400) << body << " " << res.body;
    EXPECT_EQ(json::parse(res.body)["field"], field) << res.body;
  };
  check(R"({"scope":["allocate"]})", "scope");
  check(R"({"scope":{"a":1}})", "scope");
  check(R"({"scope":null})", "scope");
  check(R"({"scope":"allocate","name":5})", "name");
  check(R"({"scope":"allocate","name":""})", "name");
  check(R"({"scope":"allocate","name":"Not A Label"})", "name");
  EXPECT_EQ(muster_.Call("GET", "/v1/tokens")["items"].size(), 0u) << "nothing was created";
  // A null name is no name: one is made up.
  int status = 0;
  json made =
      muster_.Call("POST", "/v1/tokens", json::parse(R"({"scope":"read","name":null})"), &status);
  EXPECT_EQ(status, 201) << made.dump();
  EXPECT_EQ(made["name"].get<std::string>().rfind("read-", 0), 0u) << made.dump();
}

TEST_F(Doors, TokenScopes) {
  int status = 0;
  json alloc = muster_.Call("POST", "/v1/tokens", {{"scope", "allocate"}, {"name", "mm"}}, &status);
  ASSERT_EQ(status, 201) << alloc.dump();
  json read = muster_.Call("POST", "/v1/tokens", {{"scope", "read"}, {"name", "viewer"}}, &status);
  ASSERT_EQ(status, 201);
  auto hp = api::ParseAddress(muster_.addr()).value();
  api::HttpClient mm(hp.first, hp.second, alloc["token"]);
  api::HttpClient viewer(hp.first, hp.second, read["token"]);
  EXPECT_EQ(mm.Send(api::http::verb::get, "/v1/fleets")->status, 403);
  EXPECT_EQ(viewer.Send(api::http::verb::post, "/v1/allocations", "{}")->status, 403);
  EXPECT_EQ(viewer.Send(api::http::verb::post, "/v1/tokens", R"({"scope":"admin"})")->status, 403);
  EXPECT_EQ(muster_.InState("door", "Ready").size(), 3u);
  EXPECT_EQ(viewer.Send(api::http::verb::get, "/v1/fleets")->status, 200);
  EXPECT_EQ(mm.Send(api::http::verb::post, "/v1/allocations", R"({"fleet":"door"})")->status, 201);

  json list = muster_.Call("GET", "/v1/tokens");
  ASSERT_EQ(list["items"].size(), 2u);
  for (const auto& t : list["items"])
    EXPECT_FALSE(t.contains("token")) << "values are never listed";
  // Stored hashed: the database holds no token.
  std::string db;
  for (const char* f : {"/muster.db", "/muster.db-wal"}) {
    std::ifstream in(muster_.data_dir() + f, std::ios::binary);
    db += std::string(std::istreambuf_iterator<char>(in), {});
  }
  EXPECT_EQ(db.find(alloc["token"].get<std::string>()), std::string::npos);
  EXPECT_NE(db.find(api::Sha256Hex(alloc["token"])), std::string::npos);

  // Survives a restart; revoked means refused.
  muster_.Kill9();
  ASSERT_TRUE(muster_.Start());
  api::HttpClient mm2(hp.first, api::ParseAddress(muster_.addr()).value().second, alloc["token"]);
  EXPECT_EQ(mm2.Send(api::http::verb::post, "/v1/allocations", R"({"fleet":"door"})")->status, 201);
  muster_.Call("DELETE", "/v1/tokens/mm", nullptr, &status);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(mm2.Send(api::http::verb::post, "/v1/allocations", R"({"fleet":"door"})")->status, 401);
}

}  // namespace
}  // namespace muster::testing
