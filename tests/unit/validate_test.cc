// Manifest decoding and validation: every problem with its field path.
#include <gtest/gtest.h>

#include "codec/json_codec.h"
#include "codec/json_text.h"
#include "codec/yaml.h"

namespace muster::codec {
namespace {

const char* kFleet = R"(
apiVersion: muster.dev/v1
kind: Fleet
metadata:
  name: echo
  labels: {team: core}
spec:
  replicas: 1
  template:
    metadata:
      labels: {game: echo}
    spec:
      ports:
        - name: game
        - name: query
          portPolicy: Static
          hostPort: 7777
          protocol: TCP
      template:
        spec:
          containers:
            - name: echo
              image: example/echo
              command: ["/bin/echo-server"]
              args: ["--port", 7654]
              env:
                - {name: MODE, value: fast}
                - name: FROM_SECRET
                  valueFrom: {secretKeyRef: {name: s, key: k}}
              workingDir: /srv
)";

json Doc(const std::string& yaml) { return ParseDocuments(yaml).value().front(); }

core::Status FleetProblems(const std::string& yaml) {
  auto f = DecodeFleet(Doc(yaml));
  return f.ok() ? core::OkStatus() : f.status();
}

std::vector<std::string> Fields(const core::Status& s) {
  std::vector<std::string> out;
  for (const auto& p : s.problems()) out.push_back(p.field);
  return out;
}

TEST(Validate, AGoodFleetDecodesWithDefaults) {
  auto fleet = DecodeFleet(Doc(kFleet));
  ASSERT_TRUE(fleet.ok()) << fleet.status().message();
  const auto& spec = fleet->spec.tmpl.spec;
  EXPECT_EQ(fleet->spec.replicas, 1);
  std::string two = kFleet;
  two.replace(two.find("replicas: 1"), 11, "replicas: 2");
  EXPECT_EQ(FleetProblems(two).field(), "spec.template.spec.ports")
      << "a Static port cannot serve more than one replica on one host";
  ASSERT_EQ(spec.ports.size(), 2u);
  EXPECT_EQ(spec.ports[0].policy, core::PortPolicy::kDynamic);
  EXPECT_EQ(spec.ports[0].protocol, core::Protocol::kUDP);
  EXPECT_EQ(spec.ports[1].host_port, 7777);
  EXPECT_EQ(spec.health, (core::HealthSpec{false, 5, 5, 3}));
  EXPECT_EQ(spec.termination_grace_s, 30);
  EXPECT_EQ(spec.process.command, std::vector<std::string>{"/bin/echo-server"});
  EXPECT_EQ(spec.process.args, (std::vector<std::string>{"--port", "7654"}));
  EXPECT_EQ(spec.process.working_dir, "/srv");
  ASSERT_EQ(spec.process.env.size(), 2u);
  EXPECT_TRUE(spec.process.env[0].has_value);
  EXPECT_FALSE(spec.process.env[1].has_value);
  EXPECT_EQ(fleet->spec.tmpl.labels.at("game"), "echo");
}

TEST(Validate, ReportsEveryProblemAtOnce) {
  core::Status s = FleetProblems(R"(
apiVersion: muster.dev/v1
kind: Fleet
metadata: {name: Bad_Name}
spec:
  replicas: -1
  template:
    spec:
      ports:
        - {name: a}
        - {name: a}
      health: {periodSeconds: 0}
      template:
        spec:
          containers: [{name: c}]
)");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), core::Code::kInvalidArgument);
  // periodSeconds 0 is a range error from the decoder; decode errors are reported before
  // validation.
  EXPECT_EQ(Fields(s), std::vector<std::string>{"spec.template.spec.health.periodSeconds"});
  s = FleetProblems(R"(
apiVersion: muster.dev/v1
kind: Fleet
metadata: {name: Bad_Name}
spec:
  replicas: -1
  template:
    spec:
      ports:
        - {name: a}
        - {name: a}
      template:
        spec:
          containers: [{name: c}]
)");
  EXPECT_EQ(Fields(s), (std::vector<std::string>{
                           "metadata.name", "spec.replicas", "spec.template.spec.ports[1].name",
                           "spec.template.spec.template.spec.containers[0].command"}));
  EXPECT_EQ(s.field(), "metadata.name");
}

TEST(Validate, UnknownFieldsAnywhereAreNamed) {
  std::string y = kFleet;
  EXPECT_EQ(FleetProblems(y + "extra: 1\n").field(), "extra");
  std::string nested = y;
  nested.replace(nested.find("              workingDir"), 0, "              wrkDir: /x\n");
  EXPECT_EQ(FleetProblems(nested).field(), "spec.template.spec.template.spec.containers[0].wrkDir");
}

TEST(Validate, PortRules) {
  auto with_port = [](const std::string& port) {
    return std::string(
               "apiVersion: muster.dev/v1\nkind: Fleet\nmetadata: {name: f}\nspec:\n  replicas: 1\n"
               "  template:\n    spec:\n      ports:\n        - ") +
           port +
           "\n      template:\n        spec:\n          containers: [{name: c, command: [x]}]\n";
  };
  EXPECT_EQ(FleetProblems(with_port("{name: p, hostPort: 0, portPolicy: Static}")).field(),
            "spec.template.spec.ports[0].hostPort");
  EXPECT_EQ(FleetProblems(with_port("{name: p, portPolicy: Static}")).field(),
            "spec.template.spec.ports[0].hostPort");
  EXPECT_EQ(FleetProblems(with_port("{name: p, containerPort: 65536}")).field(),
            "spec.template.spec.ports[0].containerPort");
  EXPECT_EQ(FleetProblems(with_port("{name: p, portPolicy: Sometimes}")).field(),
            "spec.template.spec.ports[0].portPolicy");
  EXPECT_EQ(FleetProblems(with_port("{name: p, protocol: SCTP}")).field(),
            "spec.template.spec.ports[0].protocol");
  EXPECT_EQ(FleetProblems(with_port("{name: p, portPolicy: None, hostPort: 80}")).field(),
            "spec.template.spec.ports[0].hostPort");
  EXPECT_TRUE(FleetProblems(with_port("{name: p, portPolicy: Passthrough}")).ok());
}

TEST(Validate, KindAndApiVersion) {
  EXPECT_EQ(ManifestKind(Doc("apiVersion: muster.dev/v1\nkind: Pod\n")).status().field(), "kind");
  EXPECT_EQ(ManifestKind(Doc("kind: Fleet\n")).status().field(), "apiVersion");
  EXPECT_EQ(ManifestKind(Doc("apiVersion: muster.dev/v1\nkind: GameServer\n")).value(),
            "GameServer");
  auto f = DecodeFleet(Doc("apiVersion: muster.dev/v1\nkind: GameServer\nmetadata: {name: x}\n"));
  EXPECT_EQ(f.status().field(), "kind");
}

TEST(Validate, GameServerManifest) {
  auto gs = DecodeGameServer(Doc(R"(
apiVersion: muster.dev/v1
kind: GameServer
metadata: {name: solo}
spec:
  ports: [{containerPort: 7654}]
  health: {disabled: true}
  template:
    spec:
      containers: [{name: c, command: [x]}]
)"));
  ASSERT_TRUE(gs.ok()) << gs.status().message();
  EXPECT_EQ(gs->spec->ports[0].name, "default") << "a single unnamed port is called default";
  EXPECT_TRUE(gs->spec->health.disabled);
  auto missing = DecodeGameServer(
      Doc("apiVersion: muster.dev/v1\nkind: GameServer\nmetadata: {name: solo}\nspec: {}\n"));
  EXPECT_EQ(missing.status().field(), "spec.template");
}

TEST(Validate, ARegisteredServerNeedsAnAddressPlayersCanReachAndAPort) {
  auto with = [](const std::string& external) {
    return DecodeGameServer(
        Doc("apiVersion: muster.dev/v1\nkind: GameServer\nmetadata: {name: dev}\nspec:\n  "
            "external: " +
            external + "\n"));
  };
  for (const char* good : {"10.0.0.5", "255.255.255.255", "0.0.0.0", "Dev-Box.example.com",
                           "localhost", "fd00::1", "::ffff:10.0.0.5", "1a.example.com"}) {
    auto gs = with(std::string("{address: \"") + good + "\", ports: [{name: g, port: 7}]}");
    EXPECT_TRUE(gs.ok()) << good << ": " << gs.status().message();
  }
  for (const char* bad :
       {"not an address!", "a..b", "-x.example.com", "10.0.0.5:7777", "10.0.0.5:7777x", "300.1.2.3",
        "10.0.0", "10.0.0.5.6", "10.0.0.", "1.2.3.0004", "1234", "010.0.0.1"}) {
    auto gs = with(std::string("{address: \"") + bad + "\", ports: [{name: g, port: 7}]}");
    ASSERT_FALSE(gs.ok()) << bad;
    EXPECT_EQ(gs.status().field(), "spec.external.address") << bad;
  }
  auto portless = with("{address: 10.0.0.5}");
  ASSERT_FALSE(portless.ok());
  EXPECT_EQ(portless.status().field(), "spec.external.ports");
}

TEST(Validate, AWholeNumberBeyondInt64IsAnErrorNotAWrap) {
  for (const char* replicas : {"1e300", "inf", "-9.3e18"}) {
    std::string yaml = std::string(kFleet);
    yaml.replace(yaml.find("replicas: 1"), 11, std::string("replicas: ") + replicas);
    core::Status s = FleetProblems(yaml);
    EXPECT_FALSE(s.ok()) << replicas;
    EXPECT_EQ(s.field(), "spec.replicas") << replicas << ": " << s.message();
  }
}

TEST(Validate, AResourceVersionIsAWholeNumberAsAString) {
  for (const char* rv : {"-5", "+5", " 5", "5x", "", "18446744073709551616", "0x10"}) {
    std::string yaml = std::string(kFleet);
    yaml.replace(yaml.find("  labels: {team: core}"), 0,
                 std::string("  resourceVersion: \"") + rv + "\"\n");
    core::Status s = FleetProblems(yaml);
    EXPECT_EQ(s.code(), core::Code::kInvalidArgument) << rv;
    EXPECT_EQ(s.field(), "metadata.resourceVersion") << rv << ": " << s.message();
  }
  std::string yaml = std::string(kFleet);
  yaml.replace(yaml.find("  labels: {team: core}"), 0, "  resourceVersion: \"7\"\n");
  auto f = DecodeFleet(Doc(yaml));
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_EQ(f->meta.version, 7u);
}

// An empty section written as `null` (as YAML does for `players:` with nothing under it)
// is the section left out, the same for each of them.
TEST(Validate, NullSectionsAreLeftOut) {
  for (const char* section : {"players", "counters", "lists", "health"}) {
    std::string yaml = std::string(kFleet);
    yaml.replace(yaml.find("      ports:"), 0, std::string("      ") + section + ": null\n");
    EXPECT_TRUE(FleetProblems(yaml).ok()) << section << ": " << FleetProblems(yaml).message();
  }
}

TEST(Validate, ANumberOutOfRangeIsAnErrorInTheBody) {
  auto docs = ParseDocuments(R"({"kind": "GameServer", "spec": {"replicas": 1e400}})");
  ASSERT_FALSE(docs.ok());
  EXPECT_EQ(docs.status().field(), "body");
  EXPECT_NE(docs.status().message().find("invalid JSON"), std::string::npos)
      << docs.status().message();
}

TEST(Validate, AManifestThatIsNotUtf8IsRefusedWhole) {
  for (const char* text : {"kind: Fleet\nmetadata: {name: \"a\xff\"}\n",
                           "{\"kind\": \"Fleet\", \"metadata\": {\"name\": \"\xc3\"}}"}) {
    auto docs = ParseDocuments(text);
    ASSERT_FALSE(docs.ok()) << text;
    EXPECT_EQ(docs.status().field(), "body");
    EXPECT_NE(docs.status().message().find("UTF-8"), std::string::npos);
  }
  EXPECT_TRUE(ParseDocuments("kind: Fleet\nmetadata: {labels: {team: \"\xc3\xa9quipe\"}}\n").ok());
}

TEST(Validate, DocumentsBuiltToExhaustTheServerAreRefused) {
  const std::string deep =
      "{\"kind\": \"Fleet\", \"spec\": " + std::string(5000, '[') + std::string(5000, ']') + "}";
  auto nested = ParseDocuments(deep);
  ASSERT_FALSE(nested.ok());
  EXPECT_EQ(nested.status().field(), "body");
  EXPECT_NE(nested.status().message().find("nests deeper"), std::string::npos);
  // Brackets inside strings are text, not nesting.
  EXPECT_TRUE(ParseDocuments("{\"a\": \"" + std::string(500, '[') + "\"}").ok());

  // `a` first, then levels b, c, ... up to `last`, each a list of ten aliases of the one before.
  auto aliases = [](const std::string& a, char last) {
    std::string doc = "a: &a " + a + "\n";
    for (char level = 'b'; level <= last; ++level) {
      const std::string prev(1, static_cast<char>(level - 1));
      doc += std::string(1, level) + ": &" + level + " [";
      for (int i = 0; i < 10; ++i) doc += (i ? ", *" : "*") + prev;
      doc += "]\n";
    }
    return doc;
  };
  for (const std::string& bomb : {
           aliases("[x, x, x, x, x, x, x, x, x, x]", 'i'),           // 10^9 values once expanded
           aliases("\"" + std::string(1'000'000, 'x') + "\"", 'e'),  // few values, 10 GB of text
       }) {
    auto laughs = ParseDocuments(bomb);
    ASSERT_FALSE(laughs.ok());
    EXPECT_NE(laughs.status().message().find("YAML aliases"), std::string::npos)
        << laughs.status().message();
  }
}

// A key given twice is refused, naming where: last-wins would drop one silently (a
// `replicas: 1` lost under a later `replicas: 50`, or the other way round).
TEST(Validate, AKeyGivenTwiceIsRefusedWhereItIs) {
  struct Case {
    std::string doc, field;
  };
  for (const Case& c : std::vector<Case>{
           {R"({"kind":"Fleet","spec":{"replicas":1,"replicas":50}})", "spec.replicas"},
           {R"({"spec":{"ports":[{"name":"a"},{"name":"b","name":"c"}]}})", "spec.ports[1].name"},
           {R"([{"kind":"Fleet"},{"metadata":{"labels":{"agones.dev/x":"1","agones.dev/x":"2"}}}])",
            "[1].metadata.labels.agones.dev/x"},
           {"kind: Fleet\nspec:\n  replicas: 1\n  replicas: 50\n", "spec.replicas"},
           {"spec:\n  ports:\n  - name: a\n  - {name: b, name: c}\n", "spec.ports[1].name"},
           {"kind: Fleet\n---\nmetadata:\n  name: x\nmetadata: {}\n", "metadata"},
       }) {
    auto parsed = ParseDocuments(c.doc);
    ASSERT_FALSE(parsed.ok()) << c.doc;
    EXPECT_EQ(parsed.status().field(), c.field) << c.doc;
    EXPECT_NE(parsed.status().message().find("appears twice"), std::string::npos)
        << parsed.status().message();
  }
  // The same key in different objects, or a key equal to a value, is no repeat.
  EXPECT_TRUE(ParseDocuments(R"({"a":{"name":"x"},"b":{"name":"x"},"name":"name"})").ok());
  EXPECT_TRUE(ParseDocuments("a: {name: x}\nb: {name: x}\nlist: [{k: 1}, {k: 2}]\n").ok());
  // The one-pass parser that checks builds what nlohmann's own parse builds.
  const std::string text =
      R"({"a":[1,-2,3.5,"x",true,null,{"b":[[],{}]}],"c":{"d":18446744073709551615}})";
  auto checked = codec::ParseJsonText(text);
  ASSERT_TRUE(checked.ok()) << checked.status().message();
  EXPECT_EQ(*checked, nlohmann::json::parse(text));
  EXPECT_EQ(codec::ParseJsonText(R"({"a":1} x)").status().field(), "body");
  // Elements before the repeat (scalars, empty arrays and objects) count in its path.
  EXPECT_EQ(codec::ParseJsonText(R"({"a":[1,[],{},{"k":1,"k":2}]})").status().field(), "a[3].k");
  // Many keys in one object (past the short list) are still checked, and last-wins keeps
  // the last.
  std::string many = "{";
  for (int i = 0; i < 40; ++i) many += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  EXPECT_EQ(codec::ParseJsonText(many + R"("k7":0})").status().field(), "k7");
  auto last = codec::ParseJsonText(many + R"("k7":-1})", codec::RepeatedKeys::kLastWins);
  ASSERT_TRUE(last.ok());
  EXPECT_EQ((*last)["k7"], -1);
  EXPECT_EQ(last->size(), 40u);
}

TEST(Validate, NamesAndLabels) {
  EXPECT_TRUE(core::IsValidName("echo-1"));
  EXPECT_FALSE(core::IsValidName("-echo"));
  EXPECT_FALSE(core::IsValidName("Echo"));
  EXPECT_FALSE(core::IsValidName(std::string(64, 'a')));
  EXPECT_TRUE(core::IsQualifiedName("agones.dev/sdk-mode"));
  EXPECT_TRUE(core::IsQualifiedName("mode"));
  EXPECT_FALSE(core::IsQualifiedName("bad key"));
  EXPECT_FALSE(core::IsQualifiedName("/x"));
  EXPECT_TRUE(core::IsValidLabelValue(""));
  EXPECT_FALSE(core::IsValidLabelValue("a b"));
}

TEST(Validate, PortEnvNames) {
  EXPECT_EQ(core::PortEnvName("game"), "MUSTER_PORT_GAME");
  EXPECT_EQ(core::PortEnvName("rcon-tcp.1"), "MUSTER_PORT_RCON_TCP_1");
}

}  // namespace
}  // namespace muster::codec
