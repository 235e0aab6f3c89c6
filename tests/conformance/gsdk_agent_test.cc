// The PlayFab GSDK agent, written from the contract (../shared/reference/playfab-gsdk.md):
// the test plays the game's part. Its process does nothing (it ignores SIGTERM, so a
// server being deleted lives through its grace period); the test reads the config
// file and environment the process was given and sends the heartbeats a GSDK sends.
// (Its 5 s grace period is also how long each test takes to stop.)
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "support/muster_process.h"
#include "support/poll.h"

namespace muster::testing {
namespace {
using namespace std::chrono_literals;
using api::http::verb;

const char* kBuild = "0f1e2d3c-4b5a-4697-8a8b-9c0d1e2f3a4b";
const char* kSession = "11111111-2222-4333-8444-555555555555";

json GsdkFleet(const std::string& name, int replicas, const json& health) {
  json f = json::parse(R"({
    "apiVersion": "muster.dev/v1", "kind": "Fleet",
    "spec": {
      "template": {"spec": {
        "ports": [{"name": "game", "portPolicy": "Dynamic", "protocol": "UDP"}],
        "template": {"spec": {"terminationGracePeriodSeconds": 5, "containers": [{
          "name": "g", "command": ["sh", "-c", "trap '' TERM; exec tail -f /dev/null"]}]}}}}}})");
  f["metadata"]["name"] = name;
  f["spec"]["replicas"] = replicas;
  f["spec"]["buildID"] = kBuild;
  f["spec"]["template"]["spec"]["health"] = health;
  return f;
}

std::map<std::string, std::string> Environ(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/environ");
  std::map<std::string, std::string> env;
  std::string entry;
  while (std::getline(in, entry, '\0')) {
    auto eq = entry.find('=');
    if (eq != std::string::npos) env[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  return env;
}

class Gsdk : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(muster_.Start()); }

  // Applies the fleet and answers its first server once it runs (Starting).
  json StartFleet(
      const std::string& name, int replicas,
      const json& health = json::parse(
          R"({"initialDelaySeconds": 30, "periodSeconds": 5, "failureThreshold": 3})")) {
    int status = 0;
    muster_.Call("POST", "/v1/fleets", GsdkFleet(name, replicas, health), &status);
    EXPECT_EQ(status, 201);
    json gs;
    EXPECT_TRUE(PollUntil(
        [&] {
          auto starting = muster_.InState(name, "Starting");
          if (starting.size() < static_cast<size_t>(replicas)) return false;
          gs = starting[0];
          return true;
        },
        20s));
    return gs;
  }
  // A two-server fleet: both servers, once they run.
  std::pair<json, json> StartTwo(const std::string& fleet) {
    StartFleet(fleet, 2);
    std::vector<json> both = muster_.InState(fleet, "Starting");
    EXPECT_EQ(both.size(), 2u);
    if (both.size() < 2) return {json::object(), json::object()};
    return {both[0], both[1]};
  }
  json Server(const std::string& name) { return muster_.Call("GET", "/v1/gameservers/" + name); }
  std::string State(const std::string& name) { return Server(name)["status"].value("state", ""); }

  // One heartbeat as a GSDK sends it (PATCH for C++/C#/Java, POST .../heartbeats for
  // Unity/Go); answers status and parsed body.
  std::pair<int, json> Beat(const json& gs, const std::string& body, bool patch = true,
                            const std::string& id = "") {
    api::HttpClient agent("127.0.0.1", gs["status"]["sdkPorts"]["http"].get<int>());
    const std::string host = id.empty() ? gs["metadata"]["name"].get<std::string>() : id;
    auto res = patch ? agent.Send(verb::patch, "/v1/sessionHosts/" + host, body)
                     : agent.Send(verb::post, "/v1/sessionHosts/" + host + "/heartbeats", body);
    if (!res.ok()) return {0, json()};
    return {res->status, json::parse(res->body, nullptr, false)};
  }
  std::pair<int, json> Post(const json& gs, const std::string& path, const json& body) {
    api::HttpClient agent("127.0.0.1", gs["status"]["sdkPorts"]["http"].get<int>());
    auto res = agent.Send(verb::post, path, body.dump());
    if (!res.ok()) return {0, json()};
    return {res->status, json::parse(res->body, nullptr, false)};
  }

  MusterProcess muster_{{"29000-29099", "29100-29299", {"--gsdk-heartbeat-interval", "2000"}}};
};

TEST_F(Gsdk, ConfigFileHasEveryKeyAndTheProcessItsEnvironment) {
  json gs = StartFleet("pf", 1);
  const std::string name = gs["metadata"]["name"];
  auto env = Environ(gs["status"]["pid"]);
  EXPECT_EQ(env["PF_TITLE_ID"], "muster");
  EXPECT_EQ(env["PF_BUILD_ID"], kBuild);
  EXPECT_EQ(env["PF_REGION"], "local");
  ASSERT_FALSE(env["GSDK_CONFIG_FILE"].empty());
  // The C++ GSDK's fallbacks when the file cannot be read.
  const std::string endpoint =
      "127.0.0.1:" + std::to_string(gs["status"]["sdkPorts"]["http"].get<int>());
  EXPECT_EQ(env["HEARTBEAT_ENDPOINT"], endpoint);
  EXPECT_EQ(env["SESSION_HOST_ID"], name);

  std::ifstream in(env["GSDK_CONFIG_FILE"]);
  json c = json::parse(in, nullptr, false);
  ASSERT_TRUE(c.is_object()) << env["GSDK_CONFIG_FILE"];
  const std::string address = gs["status"]["address"];
  const int port = gs["status"]["ports"][0]["port"];
  EXPECT_EQ(c["heartbeatEndpoint"], endpoint);
  EXPECT_EQ(c["sessionHostId"], name);
  EXPECT_EQ(c["vmId"], gs["status"]["nodeName"]);
  for (const char* folder : {"logFolder", "sharedContentFolder", "certificateFolder"}) {
    ASSERT_TRUE(c[folder].is_string()) << folder;
    EXPECT_TRUE(std::filesystem::is_directory(c[folder].get<std::string>())) << folder;
  }
  EXPECT_EQ(c["gameCertificates"], json::object());
  EXPECT_TRUE(c["buildMetadata"].is_object());
  EXPECT_EQ(c["gamePorts"], json({{"game", std::to_string(port)}})) << "values are strings";
  EXPECT_EQ(c["publicIpV4Address"], address);
  EXPECT_EQ(c["fullyQualifiedDomainName"], address);
  EXPECT_TRUE(c["serverInstanceNumber"].is_number_integer());
  const json& info = c["gameServerConnectionInfo"];
  EXPECT_EQ(info["publicIpV4Adress"], address) << "the spelling the GSDKs read";
  EXPECT_FALSE(info.contains("publicIpV4Address"));
  EXPECT_EQ(
      info["gamePortsConfiguration"],
      json::array(
          {{{"name", "game"}, {"serverListeningPort", port}, {"clientConnectionPort", port}}}));
}

TEST_F(Gsdk, StandingByAllocationActiveWithSessionConfigThenTerminate) {
  json gs = StartFleet("pf", 1);
  const std::string name = gs["metadata"]["name"];
  auto info =
      Post(gs, "/v1/metrics/" + name + "/gsdkinfo", {{"Flavor", "C++"}, {"Version", "2.0.0"}});
  EXPECT_EQ(info.first, 200);

  // Initializing, with null players and empty health: accepted; nothing to do yet.
  auto [s1, a1] = Beat(
      gs, R"({"CurrentGameState":"Initializing","CurrentGameHealth":"","CurrentPlayers":null})");
  ASSERT_EQ(s1, 200) << a1.dump();
  EXPECT_EQ(a1, json::parse(R"({"operation":"Continue","nextHeartbeatIntervalMs":2000})"));
  EXPECT_EQ(State(name), "Starting");

  // readyForPlayers(): StandingBy, by the other heartbeat form.
  auto [s2, a2] = Beat(
      gs, R"({"CurrentGameState":"StandingBy","CurrentGameHealth":"Healthy","CurrentPlayers":[]})",
      false);
  ASSERT_EQ(s2, 200) << a2.dump();
  EXPECT_EQ(a2["operation"], "Continue");
  EXPECT_EQ(State(name), "Ready");

  // Maintenance planned on the node reaches the game.
  int status = 0;
  muster_.Call("PUT", "/v1/nodes/" + gs["status"]["nodeName"].get<std::string>() + "/maintenance",
               {{"at", "2026-12-01T10:00:00Z"}}, &status);
  ASSERT_EQ(status, 200);

  // A matchmaker allocates it (Thundernetes door); the next heartbeat says Active.
  json alloc = {{"buildID", kBuild},
                {"sessionID", kSession},
                {"sessionCookie", "cookie-1"},
                {"initialPlayers", {"alice", "bob"}}};
  auto res = muster_.Raw("POST", "/api/v1/allocate", alloc.dump());
  ASSERT_EQ(res.status, 200) << res.body;
  auto [s3, a3] = Beat(
      gs,
      R"({"CurrentGameState":"StandingBy","CurrentGameHealth":"Healthy","CurrentPlayers":null})");
  ASSERT_EQ(s3, 200);
  EXPECT_EQ(a3["operation"], "Active");
  EXPECT_EQ(a3["nextHeartbeatIntervalMs"], 2000);
  EXPECT_EQ(a3["nextScheduledMaintenanceUtc"], "2026-12-01T10:00:00Z");
  ASSERT_TRUE(a3["sessionConfig"].is_object()) << a3.dump();
  EXPECT_EQ(a3["sessionConfig"]["sessionId"], kSession);
  EXPECT_EQ(a3["sessionConfig"]["sessionCookie"], "cookie-1");
  EXPECT_EQ(a3["sessionConfig"]["initialPlayers"], json::array({"alice", "bob"}));
  EXPECT_TRUE(a3["sessionConfig"]["metadata"].is_object());

  // The game is Active with players: Continue; Muster shows the players.
  auto [s4, a4] = Beat(
      gs,
      R"({"CurrentGameState":"Active","CurrentGameHealth":"Healthy","CurrentPlayers":[{"PlayerId":"alice"},{"PlayerId":"bob"}]})");
  ASSERT_EQ(s4, 200);
  EXPECT_EQ(a4["operation"], "Continue");
  json now = Server(name);
  EXPECT_EQ(now["status"]["state"], "Allocated");
  EXPECT_EQ(now["status"]["players"]["count"], 2);
  EXPECT_EQ(now["status"]["players"]["ids"], json::array({"alice", "bob"}));

  // Muster wants it gone: the next heartbeat says Terminate.
  muster_.Call("DELETE", "/v1/gameservers/" + name, nullptr, &status);
  ASSERT_EQ(status, 200);
  auto [s5, a5] =
      Beat(gs, R"({"CurrentGameState":"Active","CurrentGameHealth":"Healthy","CurrentPlayers":[]})",
           false);
  ASSERT_EQ(s5, 200);
  EXPECT_EQ(a5["operation"], "Terminate");
}

TEST_F(Gsdk, BadHeartbeatsAreRefusedAndChangeNothing) {
  auto [a, b] = StartTwo("pf");
  const std::string name = a["metadata"]["name"], other = b["metadata"]["name"];
  ASSERT_EQ(
      Beat(a, R"({"CurrentGameState":"StandingBy","CurrentPlayers":[{"PlayerId":"p"}]})").first,
      200);
  ASSERT_EQ(State(name), "Ready");
  const json before_a = Server(name), before_b = Server(other);

  struct Case {
    std::string body, field;
    int status;
  };
  for (const Case& c : std::vector<Case>{
           {"{not json", "body", 400},
           {R"(["StandingBy"])", "body", 400},
           {R"({"CurrentGameHealth":"Healthy"})", "CurrentGameState", 400},
           {R"({"CurrentGameState":"Sleeping"})", "CurrentGameState", 400},
           {R"({"CurrentGameState":"StandingBy","CurrentGameHealth":"Fine"})", "CurrentGameHealth",
            400},
           {R"({"CurrentGameState":"StandingBy","CurrentPlayers":{"PlayerId":"x"}})",
            "CurrentPlayers", 400},
           {R"({"CurrentGameState":"StandingBy","CurrentPlayers":[{"Id":"x"}]})",
            "CurrentPlayers[0].PlayerId", 400},
           // Illegal change: StandingBy -> Initializing.
           {R"({"CurrentGameState":"Initializing","CurrentPlayers":[]})", "CurrentGameState", 400},
       }) {
    auto [status, body] = Beat(a, c.body);
    EXPECT_EQ(status, c.status) << c.body;
    EXPECT_EQ(body.value("field", ""), c.field) << c.body << " -> " << body.dump();
  }
  // Another server's session host id, or another server's name in a DGS callback, on
  // A's port: refused. A's port can never change B.
  auto [s_id, b_id] = Beat(a, R"({"CurrentGameState":"Terminated"})", true, other);
  EXPECT_EQ(s_id, 404) << b_id.dump();
  auto [s_dgs, b_dgs] = Post(a, "/setdgsstate", {{"serverName", other}, {"state", "Assigned"}});
  EXPECT_EQ(s_dgs, 404) << b_dgs.dump();
  EXPECT_EQ(Post(a, "/setactiveplayers", {{"serverName", other}, {"playerCount", 9}}).first, 404);
  EXPECT_EQ(Post(a, "/v1/metrics/" + other + "/gsdkinfo", json::object()).first, 404);
  // An oversized body.
  api::HttpClient agent("127.0.0.1", a["status"]["sdkPorts"]["http"].get<int>());
  auto big = agent.Send(verb::patch, "/v1/sessionHosts/" + name, std::string(70 * 1024, 'x'));
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->status, 413);

  EXPECT_EQ(Server(name), before_a);
  EXPECT_EQ(Server(other), before_b);
}

TEST_F(Gsdk, MissingOrLateHeartbeatsMakeItUnhealthyAndItIsReplaced) {
  // Unhealthy once 2 periods of 1 s pass without a heartbeat, counted from 2 s after start.
  json gs = StartFleet(
      "pf", 1,
      json::parse(R"({"initialDelaySeconds": 2, "periodSeconds": 1, "failureThreshold": 2})"));
  const std::string silent = gs["metadata"]["name"];
  // This one never sends its first heartbeat.
  EXPECT_TRUE(PollUntil([&] { return State(silent) != "Starting"; }, 20s));
  EXPECT_TRUE(Server(silent)["status"]["state"] == "Unhealthy" ||
              Server(silent).value("error", "") == "NotFound");
  json next;
  ASSERT_TRUE(PollUntil(
      [&] {
        for (const json& s : muster_.InState("pf", "Starting"))
          if (s["metadata"]["name"] != silent) next = s;
        return !next.is_null();
      },
      20s))
      << "a replacement starts";
  const std::string late = next["metadata"]["name"];
  ASSERT_EQ(Beat(next, R"({"CurrentGameState":"StandingBy","CurrentPlayers":null})").first, 200);
  EXPECT_EQ(State(late), "Ready");
  // Then the heartbeats stop.
  EXPECT_TRUE(PollUntil([&] { return State(late) != "Ready"; }, 20s));
  json after = Server(late);
  EXPECT_TRUE(after["status"].value("state", "") == "Unhealthy" ||
              after.value("error", "") == "NotFound")
      << after.dump();
}

TEST_F(Gsdk, DgsCallbacksMapToTheSameCalls) {
  auto [a, b] = StartTwo("dgs");
  const std::string name = a["metadata"]["name"], other = b["metadata"]["name"];
  auto post = [&](const json& gs, const std::string& path, json body) {
    body["serverName"] = gs["metadata"]["name"];
    body["namespace"] = "default";
    return Post(gs, path, body);
  };
  EXPECT_EQ(post(a, "/setsdgshealth", {{"health", "Healthy"}}).first, 200);
  EXPECT_EQ(post(a, "/setdgsstate", {{"state", "Idle"}}).first, 200);
  EXPECT_EQ(State(name), "Ready");
  EXPECT_EQ(post(a, "/setdgsstate", {{"state", "Assigned"}}).first, 200);
  EXPECT_EQ(State(name), "Allocated");
  EXPECT_EQ(post(a, "/setactiveplayers", {{"playerCount", 3}}).first, 200);
  EXPECT_EQ(Server(name)["status"]["players"]["count"], 3);
  auto bad = post(a, "/setdgsstate", {{"state", "Sleeping"}});
  EXPECT_EQ(bad.first, 400);
  EXPECT_EQ(bad.second.value("field", ""), "state");

  // Marked for deletion: it stays while players remain, and shuts down at 0.
  EXPECT_EQ(post(a, "/setdgsmarkedfordeletion", {{"markedForDeletion", true}}).first, 200);
  EXPECT_EQ(State(name), "Allocated");
  EXPECT_EQ(post(a, "/setactiveplayers", {{"playerCount", 0}}).first, 200);
  EXPECT_TRUE(PollUntil(
      [&] {
        json now = Server(name);
        return now.value("error", "") == "NotFound" || now["status"]["state"] == "Shutdown";
      },
      10s));

  // Failed health: Unhealthy.
  EXPECT_EQ(post(b, "/setsdgshealth", {{"health", "Failed"}}).first, 200);
  json now_b = Server(other);
  EXPECT_TRUE(now_b["status"].value("state", "") == "Unhealthy" ||
              now_b.value("error", "") == "NotFound");
}

}  // namespace
}  // namespace muster::testing
