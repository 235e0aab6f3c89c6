// YAML/JSON parsing and the stored form's round trip.
#include <gtest/gtest.h>

#include "codec/allocation_codec.h"
#include "codec/gameserver_text.h"
#include "codec/json_codec.h"
#include "codec/json_writer.h"
#include "codec/yaml.h"

namespace muster::codec {
namespace {

TEST(Yaml, ScalarsBecomeTypedUnlessQuoted) {
  auto docs = ParseDocuments("a: 5\nb: \"5\"\nc: true\nd: ~\ne: 1.5\nf: text\ng: '007'\n");
  ASSERT_TRUE(docs.ok());
  const json& d = docs->front();
  EXPECT_EQ(d["a"], 5);
  EXPECT_EQ(d["b"], "5");
  EXPECT_EQ(d["c"], true);
  EXPECT_TRUE(d["d"].is_null());
  EXPECT_EQ(d["e"], 1.5);
  EXPECT_EQ(d["f"], "text");
  EXPECT_EQ(d["g"], "007");
}

TEST(Yaml, MultipleDocumentsAndJson) {
  auto docs = ParseDocuments("a: 1\n---\n---\nb: 2\n");
  ASSERT_TRUE(docs.ok());
  EXPECT_EQ(docs->size(), 2u);
  auto j = ParseDocuments(R"([{"a":1},{"b":2}])");
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(j->size(), 2u);
}

TEST(Yaml, SyntaxErrorsNameTheLine) {
  auto bad = ParseDocuments("a: 1\nb: [unclosed\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().field(), "body");
  EXPECT_NE(bad.status().message().find("line"), std::string::npos);
  EXPECT_EQ(ParseDocuments("   \n").status().field(), "body");
  EXPECT_EQ(ParseDocuments("{\"a\":").status().field(), "body");
}

TEST(Codec, StoredGameServerRoundTrips) {
  core::GameServer gs;
  gs.meta.name = "echo-abcde";
  gs.meta.labels = {{"muster.dev/fleet", "echo"}};
  gs.meta.annotations = {{"note", "x"}};
  gs.meta.version = 7;
  gs.meta.created_ms = 1'700'000'000'123;
  gs.meta.deletion_ms = 1'700'000'100'456;
  gs.fleet = "echo";
  gs.spec.mut().ports = {{"game", core::PortPolicy::kDynamic, 0, 0, core::Protocol::kUDP}};
  gs.spec.mut().containers = 1;
  gs.spec.mut().pod_template_json = R"({"spec":{"containers":[{"command":["x"],"name":"c"}]}})";
  gs.spec.mut().process.command = {"x"};
  gs.status.state = core::GameServerState::kAllocated;
  gs.status.node = "n1";
  gs.status.address = "10.0.0.1";
  gs.status.ports = {{"game", 7001}};
  gs.status.sdk_grpc_port = 9400;
  gs.status.sdk_http_port = 9401;
  gs.status.pid = 4242;
  gs.status.process_start_ticks = 123456789;
  gs.status.reason = "r";
  gs.status.message = "m";
  gs.status.state_since_ms = 1'700'000'000'999;
  gs.status.ready_ms = 1'700'000'000'500;
  gs.status.allocation =
      core::AllocationInfo{"s-1", "cookie \"quoted\"", {"p1", "p2"}, 1'700'000'000'700, {"j-1"}};
  gs.status.reserved_until_ms = 1'700'000'009'000;
  gs.status.player_count = 3;
  gs.status.player_capacity = 10;
  gs.status.player_ids = {"a", "b", "c"};
  gs.spec.mut().counters = {{"rooms", {1, 5}}};
  gs.spec.mut().lists = {{"maps", {3, {"dust"}}}};
  gs.spec.mut().initial_player_capacity = 10;
  gs.status.counters = {{"rooms", {2, 5}}, {"games", {0, 1000}}};
  gs.status.lists = {{"maps", {3, {"dust", "nuke"}}}};
  // The store's fast writer keeps everything: read back as the store's Load does (the
  // spec from its own table, the version from its own column), it is the same server.
  auto stored_round_trip = [](const core::GameServer& in) {
    json doc = json::parse(StoredGameServerText(in));
    EXPECT_FALSE(doc.contains("spec"));
    doc["spec"] = EncodeGameServer(in)["spec"];
    auto out = DecodeGameServer(doc, Mode::kStored);
    EXPECT_TRUE(out.ok()) << out.status().message();
    if (!out.ok()) return core::GameServer{};
    out->meta.version = in.meta.version;
    out->spec = in.spec;  // not the body's: a default spec's text reads back with "{}" as pod
    return *out;
  };
  EXPECT_EQ(stored_round_trip(gs), gs);
  core::GameServer bare;  // every optional part absent
  bare.meta.name = "bare";
  EXPECT_EQ(stored_round_trip(bare), bare);
  core::GameServer in_session = bare;  // a session with no cookie and no players
  in_session.meta.version = 3;
  in_session.status.allocation = core::AllocationInfo{"s-2", "", {}, 1'700'000'000'700, {}};
  EXPECT_EQ(stored_round_trip(in_session), in_session);
  // ... and it leaves out what is at its default or kept elsewhere.
  const std::string text = StoredGameServerText(in_session);
  for (const char* absent : {"apiVersion", "resourceVersion", "nodeName", "address", "sdkPorts",
                             "players", "sessionCookie", "initialPlayers"})
    EXPECT_EQ(text.find(absent), std::string::npos) << absent << " in " << text;
  auto back = DecodeGameServer(EncodeGameServer(gs), Mode::kStored);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(*back, gs);
}

// A registered server's ports are in its spec (spec.external) and in its status: read
// back from the store, it has each port once (a restart used to double them).
TEST(Codec, StoredRegisteredServerKeepsEachPortOnce) {
  auto gs = DecodeGameServer(ParseDocuments(R"(
apiVersion: muster.dev/v1
kind: GameServer
metadata: {name: dev-1}
spec:
  external: {address: 10.0.0.9, sdk: false, ports: [{name: game, port: 7777}, {name: voice, port: 7778}]}
)")
                                 ->at(0),
                             Mode::kManifest);
  ASSERT_TRUE(gs.ok()) << gs.status().message();
  ASSERT_EQ(gs->status.ports.size(), 2u);
  gs->status.state = core::GameServerState::kReady;
  auto back = DecodeGameServer(EncodeGameServer(*gs), Mode::kStored);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->status.ports, gs->status.ports);
  auto again = DecodeGameServer(EncodeGameServer(*back), Mode::kStored);  // a second restart
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->status.ports, gs->status.ports);
  // A row that an earlier Muster wrote with every port twice reads back with each once.
  json doubled = EncodeGameServer(*gs);
  for (const json& p : json(doubled["status"]["ports"])) doubled["status"]["ports"].push_back(p);
  ASSERT_EQ(doubled["status"]["ports"].size(), 4u);
  auto repaired = DecodeGameServer(doubled, Mode::kStored);
  ASSERT_TRUE(repaired.ok());
  EXPECT_EQ(repaired->status.ports, gs->status.ports);
}

TEST(Codec, StoredFleetRoundTripsAndManifestIgnoresStatus) {
  auto fleet = DecodeFleet(ParseDocuments(R"(
apiVersion: muster.dev/v1
kind: Fleet
metadata: {name: f}
spec:
  replicas: 2
  scheduling: Distributed
  template:
    spec:
      template: {spec: {containers: [{name: c, command: [x]}]}}
status: {readyReplicas: 99}
)")
                               ->front());
  ASSERT_TRUE(fleet.ok()) << fleet.status().message();
  EXPECT_EQ(fleet->status.ready, 0) << "status in a manifest is ignored";
  fleet->meta.version = 3;
  fleet->meta.created_ms = 1'700'000'000'000;
  fleet->status = {2, 1, 1, 0, 2, 1'700'000'001'000, "StartFailed", "why"};
  auto back = DecodeFleet(EncodeFleet(*fleet), Mode::kStored);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, *fleet);
  // What `get -o yaml` prints can be applied again.
  auto again = DecodeFleet(EncodeFleet(*fleet));
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(again->spec, fleet->spec);
}

TEST(Codec, CountersListsAndPlayersInTheTemplateAreChecked) {
  auto doc = [](const std::string& extra) {
    return ParseDocuments(R"(
apiVersion: muster.dev/v1
kind: Fleet
metadata: {name: f}
spec:
  replicas: 1
  template:
    spec:
      template: {spec: {containers: [{name: c, command: [x]}]}}
)" + extra)
        ->front();
  };
  auto good = DecodeFleet(doc(R"(
      counters: {rooms: {count: 2, capacity: 4}, games: {}}
      lists: {maps: {capacity: 2, values: [a, b]}}
      players: {initialCapacity: 8}
)"));
  ASSERT_TRUE(good.ok()) << good.status().message();
  const auto& spec = good->spec.tmpl.spec;
  EXPECT_EQ(spec.counters.at("rooms"), (core::CounterStatus{2, 4}));
  EXPECT_EQ(spec.counters.at("games"), (core::CounterStatus{0, core::kDefaultCapacity}));
  EXPECT_EQ(spec.lists.at("maps").values, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(spec.initial_player_capacity, 8);
  core::GameServer gs = core::NewGameServerFromFleet(*good, "f-1", 1);
  EXPECT_EQ(gs.status.counters, spec.counters) << "a new server starts from the template";
  EXPECT_EQ(gs.status.player_capacity, 8);

  struct Case {
    std::string yaml, field;
  };
  for (const Case& c : std::vector<Case>{
           {"      counters: {rooms: {count: 5, capacity: 4}}\n",
            "spec.template.spec.counters.rooms.count"},
           {"      counters: {rooms: {size: 1}}\n", "spec.template.spec.counters.rooms.size"},
           {"      counters: [rooms]\n", "spec.template.spec.counters"},
           {"      lists: {maps: {capacity: 1, values: [a, b]}}\n",
            "spec.template.spec.lists.maps.values"},
           {"      lists: {maps: {values: [a, a]}}\n", "spec.template.spec.lists.maps.values"},
           {"      players: {initialCapacity: -1}\n", "spec.template.spec.players.initialCapacity"},
       }) {
    auto bad = DecodeFleet(doc(c.yaml));
    ASSERT_FALSE(bad.ok()) << c.yaml;
    EXPECT_EQ(bad.status().field(), c.field) << c.yaml << bad.status().message();
  }
}

TEST(Codec, ATimeAPersonWroteIsReadStrictly) {
  EXPECT_EQ(ParseUtcTimeStrict("2026-12-01T10:00:00Z"), ParseTime("2026-12-01T10:00:00.000Z"));
  EXPECT_EQ(*ParseUtcTimeStrict("2026-12-01T10:00:00.5Z") % 1000, 500) << ".5 is half a second";
  EXPECT_EQ(*ParseUtcTimeStrict("2028-02-29T00:00:00.123456Z") % 1000, 123);
  for (const char* bad : {"", "1970-01-01T00:00:00Z", "2026-13-45T99:99:99Z", "2026-1-1T1:1:1junkZ",
                          "1969-12-31T23:59:59Z", "2026-04-31T10:00:00Z", "2027-02-29T10:00:00Z",
                          "2026-12-01T10:00:00", "2026-12-01T10:00:00Zx", "2026-12-01 10:00:00Z",
                          "2026-12-01T10:00:00.Z", "2026-12-01T10:00:00+01:00"})
    EXPECT_FALSE(ParseUtcTimeStrict(bad)) << bad;
}

// JSON is text: bytes that are not well-formed UTF-8 (a client's, or a game server's)
// are written as U+FFFD, and what is written always parses.
TEST(Codec, BytesThatAreNotUtf8AreWrittenAsTheReplacementCharacter) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"a\xff"
       "b",
       R"("a\ufffdb")"},
      {"cut \xc3", R"("cut \ufffd")"},
      {"\xed\xa0\x80", R"("\ufffd\ufffd\ufffd")"},            // a surrogate
      {"\xc0\xaf", R"("\ufffd\ufffd")"},                      // overlong
      {"\xf4\x90\x80\x80", R"("\ufffd\ufffd\ufffd\ufffd")"},  // past U+10FFFF
      {"ok \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", "\"ok \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\""},
  };
  for (const auto& [in, want] : cases) {
    std::string out;
    AppendJsonString(out, in);
    EXPECT_EQ(out, want);
    EXPECT_FALSE(json::parse(out, nullptr, false).is_discarded()) << out;
  }
}

// The API's form of a GameServer, field by field: every status field is shown, defaults
// included; a registered server's spec says where it runs and has no empty template; a
// fleet's template spec has no scheduling of its own.
TEST(Codec, TheApiFormShowsEveryField) {
  core::GameServer bare;
  bare.meta.name = "bare";
  const json health = {{"disabled", false},
                       {"initialDelaySeconds", 5},
                       {"periodSeconds", 5},
                       {"failureThreshold", 3}};
  EXPECT_EQ(json::parse(GameServerText(bare)),
            json({{"apiVersion", "muster.dev/v1"},
                  {"kind", "GameServer"},
                  {"metadata", {{"name", "bare"}}},
                  {"spec",
                   {{"ports", json::array()},
                    {"health", health},
                    {"scheduling", "Packed"},
                    {"template", json::object()}}},
                  {"status",
                   {{"state", "Creating"},
                    {"nodeName", ""},
                    {"address", ""},
                    {"ports", json::array()},
                    {"sdkPorts", {{"grpc", 0}, {"http", 0}}},
                    {"players", {{"count", 0}, {"capacity", 0}, {"ids", json::array()}}}}}}));

  core::GameServer dev = bare;  // registered: runs elsewhere, in a fleet, in a session
  dev.meta.name = "dev-1";
  dev.meta.version = 4;
  dev.external = true;
  dev.external_sdk = false;
  dev.fleet = "echo";
  dev.status.state = core::GameServerState::kAllocated;
  dev.status.address = "10.0.0.9";
  dev.status.ports = {{"game", 7777}};
  dev.status.allocation = core::AllocationInfo{"s-1", "", {}, 1'700'000'000'700, {}};
  const json ports = json::array({{{"name", "game"}, {"port", 7777}}});
  EXPECT_EQ(json::parse(GameServerText(dev)),
            json({{"apiVersion", "muster.dev/v1"},
                  {"kind", "GameServer"},
                  {"metadata",
                   {{"name", "dev-1"},
                    {"resourceVersion", "4"},
                    {"ownerReferences", json::array({{{"kind", "Fleet"}, {"name", "echo"}}})}}},
                  {"spec",
                   {{"ports", json::array()},
                    {"health", health},
                    {"scheduling", "Packed"},
                    {"external", {{"address", "10.0.0.9"}, {"ports", ports}, {"sdk", false}}},
                    {"fleet", "echo"}}},
                  {"status",
                   {{"state", "Allocated"},
                    {"nodeName", ""},
                    {"address", "10.0.0.9"},
                    {"ports", ports},
                    {"sdkPorts", {{"grpc", 0}, {"http", 0}}},
                    {"players", {{"count", 0}, {"capacity", 0}, {"ids", json::array()}}},
                    {"allocation",
                     {{"sessionId", "s-1"},
                      {"sessionCookie", ""},
                      {"initialPlayers", json::array()},
                      {"allocatedAt", "2023-11-14T22:13:20.700Z"}}}}}}));
  EXPECT_EQ(json::parse(GameServerSpecText(dev)), json::parse(GameServerText(dev))["spec"]);
  dev.spec.mut().pod_template_json = R"({"spec":{"containers":[{"name":"c"}]}})";
  EXPECT_EQ(json::parse(GameServerText(dev))["spec"]["template"],
            json::parse(dev.spec->pod_template_json))
      << "a registered server's template is shown when it has one";

  core::GameServerSpec tmpl;
  tmpl.ports = {{"game", core::PortPolicy::kStatic, 7777, 7777, core::Protocol::kTCP}};
  tmpl.pod_template_json = R"({"spec":{"containers":[{"name":"c"}]}})";
  tmpl.initial_player_capacity = 8;
  tmpl.counters = {{"rooms", {0, 4}}};
  EXPECT_EQ(json::parse(GameServerSpecText(tmpl, false)),
            json({{"ports", json::array({{{"name", "game"},
                                          {"portPolicy", "Static"},
                                          {"protocol", "TCP"},
                                          {"containerPort", 7777},
                                          {"hostPort", 7777}}})},
                  {"health", health},
                  {"players", {{"initialCapacity", 8}}},
                  {"counters", {{"rooms", {{"count", 0}, {"capacity", 4}}}}},
                  {"template", json::parse(tmpl.pod_template_json)}}));
}

// The allocation answers are written by hand (JsonWriter); they must be the very text
// nlohmann's dump gives for the same document, escapes included.
TEST(Codec, HandWrittenAnswersEqualTheDocumentDump) {
  const std::vector<std::string> tricky = {
      "", "plain", "quote\" back\\slash", "ctl\n\r\t\b\f\x01\x1f end", "utf8 \xc3\xa9 \xe2\x82\xac",
      "/"};
  for (const auto& t : tricky) {
    std::string out;
    AppendJsonString(out, t);
    EXPECT_EQ(out, json(t).dump()) << t;
  }

  core::GameServer gs;
  gs.meta.name = "pool-7";
  gs.fleet = "echo";
  gs.meta.labels = {{"pool", "bench"}, {"tricky", tricky[3]}};
  gs.meta.annotations = {{"agones.dev/last-allocated", "2026-11-21T12:56:09.343Z"}};
  gs.spec.mut().ports = {{"game", core::PortPolicy::kDynamic, 7777, 0, core::Protocol::kUDP}};
  gs.status.node = "n1";
  gs.status.address = "10.0.0.1";
  gs.status.ports = {{"game", 7001}, {"query", 7002}};
  gs.status.counters = {{"rooms", {3, 10}}};
  gs.status.lists = {{"maps", {5, {"dust", "no \"quotes\""}}}};
  auto ports =
      json::array({{{"name", "game"}, {"port", 7001}}, {{"name", "query"}, {"port", 7002}}});
  json meta = {{"labels", gs.meta.labels}, {"annotations", gs.meta.annotations}};

  EXPECT_EQ(EncodeAllocationAnswer(gs, "s-1"), json({{"gameServer", "pool-7"},
                                                     {"fleet", "echo"},
                                                     {"address", "10.0.0.1"},
                                                     {"ports", ports},
                                                     {"node", "n1"},
                                                     {"sessionId", "s-1"},
                                                     {"metadata", meta}})
                                                   .dump());
  EXPECT_EQ(EncodeAgonesAllocationResponse(gs),
            json({{"gameServerName", "pool-7"},
                  {"ports", ports},
                  {"address", "10.0.0.1"},
                  {"addresses", json::array({{{"type", "InternalIP"}, {"address", "10.0.0.1"}}})},
                  {"counters", {{"rooms", {{"count", "3"}, {"capacity", "10"}}}}},
                  {"lists", {{"maps", {{"capacity", "5"}, {"values", {"dust", "no \"quotes\""}}}}}},
                  {"nodeName", "n1"},
                  {"source", "local"},
                  {"metadata", meta}})
                .dump());
  EXPECT_EQ(
      EncodeThundernetesResponse(gs, "s-1"),
      json({{"IPV4Address", "10.0.0.1"}, {"Ports", "7777:7001,7002:7002"}, {"SessionID", "s-1"}})
          .dump());

  core::GameServer bare;  // no labels, annotations, ports or address
  bare.meta.name = "b";
  EXPECT_EQ(EncodeAgonesAllocationResponse(bare),
            json({{"gameServerName", "b"},
                  {"ports", json::array()},
                  {"address", ""},
                  {"addresses", json::array()},
                  {"counters", json::object()},
                  {"lists", json::object()},
                  {"nodeName", ""},
                  {"source", "local"},
                  {"metadata", {{"labels", json::object()}, {"annotations", json::object()}}}})
                .dump());
}

TEST(Codec, Times) {
  EXPECT_EQ(FormatTime(1'700'000'000'123), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(ParseTime("2023-11-14T22:13:20.123Z"), 1'700'000'000'123);
  EXPECT_EQ(ParseTime("2023-11-14T22:13:20Z"), 1'700'000'000'000);
  EXPECT_FALSE(ParseTime("yesterday").has_value());
  EXPECT_EQ(FormatTime(0), "");
  // Leap days and month ends, against the C library, over 60 years in steps of 23 h 59 m 58.7 s.
  for (core::TimeMs t = 1; t < 60LL * 365 * 86'400'000; t += 86'398'700) {
    std::time_t secs = static_cast<std::time_t>(t / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[40];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    char expected[48];
    std::snprintf(expected, sizeof expected, "%s.%03dZ", buf, static_cast<int>(t % 1000));
    ASSERT_EQ(FormatTime(t), expected) << t;
    ASSERT_EQ(ParseTime(FormatTime(t)), t);
  }
  EXPECT_EQ(FormatTime(951'782'400'000), "2000-02-29T00:00:00.000Z");
}

}  // namespace
}  // namespace muster::codec
