// Conformance with the real Agones client: a Node.js game server using the npm package
// @google-cloud/agones-sdk (pinned in examples/agones-node/package-lock.json, installed
// by `make test`) runs under `muster serve` and calls every stable, alpha and beta
// method (agones_node/conformance.js). Each effect is checked through Muster's API.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "support/muster_process.h"
#include "support/poll.h"

namespace muster::testing {
namespace {
using namespace std::chrono_literals;
namespace fs = std::filesystem;

const std::string kSource = MUSTER_SOURCE_DIR;
const std::string kNodeModules = kSource + "/examples/agones-node/node_modules";

class AgonesNodeSdk : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(kNodeModules + "/@google-cloud/agones-sdk"))
        << "the npm SDK is not installed: run `make test` (it runs npm ci in "
           "examples/agones-node)";
    dir_ = muster_.data_dir() + "-conformance";
    fs::create_directories(dir_);
    ASSERT_TRUE(muster_.Start());
  }
  void TearDown() override { fs::remove_all(dir_); }

  json Manifest() const {
    json m = json::parse(R"({
      "apiVersion": "muster.dev/v1", "kind": "GameServer",
      "metadata": {"name": "node-gs", "labels": {"game": "node"}},
      "spec": {
        "ports": [{"name": "game", "portPolicy": "Dynamic", "protocol": "UDP"}],
        "health": {"initialDelaySeconds": 10, "periodSeconds": 2, "failureThreshold": 3},
        "counters": {"rooms": {"count": 0, "capacity": 10}, "sessions": {"capacity": 100}},
        "lists": {"maps": {"capacity": 3}},
        "template": {"spec": {"terminationGracePeriodSeconds": 5, "containers": [{
          "name": "game", "command": ["node"]}]}}
      }})");
    json& container = m["spec"]["template"]["spec"]["containers"][0];
    container["args"] = {kSource + "/tests/conformance/agones_node/conformance.js"};
    container["env"] = {{{"name", "CONFORMANCE_DIR"}, {"value", dir_}},
                        {{"name", "NODE_PATH"}, {"value", kNodeModules}}};
    return m;
  }

  // The step's line from steps.jsonl, once the driver has written it.
  json Step(const std::string& name) {
    json found;
    std::string failure;
    bool ok = PollUntil(
        [&] {
          std::ifstream in(dir_ + "/steps.jsonl");
          std::string line;
          while (std::getline(in, line)) {
            json j = json::parse(line, nullptr, false);
            if (j.is_discarded()) continue;
            if (j["step"] == name) {
              found = j;
              return true;
            }
            if (j["step"] == "failed") {
              failure = j["error"];
              return true;
            }
          }
          return false;
        },
        60s, 20ms);
    EXPECT_TRUE(failure.empty()) << "the Node driver failed: " << failure << "\nlog:\n" << Logs();
    EXPECT_TRUE(ok) << "no step \"" << name << "\"; server log:\n" << Logs();
    return found;
  }
  void Go(const std::string& name) { std::ofstream(dir_ + "/go-" + name) << "go\n"; }
  json Server() { return muster_.Call("GET", "/v1/gameservers/node-gs"); }
  std::string State() { return Server()["status"].value("state", ""); }
  std::string Logs() {
    std::string out;
    muster_.Cli({"logs", "node-gs"}, &out);
    return out;
  }

  MusterProcess muster_{{"28700-28799", "28800-28999", {}}};
  std::string dir_;
};

TEST_F(AgonesNodeSdk, EveryStableAlphaAndBetaMethodTakesEffect) {
  int status = 0;
  muster_.Call("POST", "/v1/gameservers", Manifest(), &status);
  ASSERT_EQ(status, 201);

  // ---- metadata, players, counters and lists, as the SDK answered them
  json edits = Step("edits");
  ASSERT_FALSE(edits.is_null());
  EXPECT_EQ(edits["badLabel"]["code"], 3) << "INVALID_ARGUMENT for a key that is not a name";

  const json& p = edits["players"];
  EXPECT_EQ(p["connectP1"], true);
  EXPECT_EQ(p["connectP2"], true);
  EXPECT_EQ(p["connectP1Again"], false);
  EXPECT_EQ(p["disconnectP2"], true);
  EXPECT_EQ(p["disconnectNobody"], false);
  EXPECT_EQ(p["capacity"], 3);
  EXPECT_EQ(p["count"], 1);
  EXPECT_EQ(p["isP1"], true);
  EXPECT_EQ(p["isP2"], false);
  EXPECT_EQ(p["connected"], json::array({"p1"}));

  const json& b = edits["beta"];
  EXPECT_EQ(b["roomsCount"], 2);
  EXPECT_EQ(b["roomsCapacity"], 20);
  EXPECT_EQ(b["sessionsCount"], 7);
  EXPECT_EQ(b["mapsCapacity"], 5) << "setListCapacity sends an empty field mask; it still applies";
  EXPECT_EQ(b["mapsHasNuke"], true);
  EXPECT_EQ(b["mapsHasDust"], false);
  EXPECT_EQ(b["mapsLength"], 1);
  EXPECT_EQ(b["mapsValues"], json::array({"nuke"}));
  EXPECT_EQ(b["overCapacity"]["code"], 11) << "OUT_OF_RANGE";
  EXPECT_EQ(b["duplicate"]["code"], 6) << "ALREADY_EXISTS";
  EXPECT_EQ(b["unknownCounter"]["code"], 5) << "NOT_FOUND";

  const json& gs = edits["gameServer"];
  EXPECT_EQ(gs["objectMeta"]["name"], "node-gs");
  EXPECT_EQ(gs["status"]["players"]["idsList"], json::array({"p1"}));
  EXPECT_NE(std::find(gs["objectMeta"]["labelsMap"].begin(), gs["objectMeta"]["labelsMap"].end(),
                      json::array({"agones.dev/sdk-mode", "ranked"})),
            gs["objectMeta"]["labelsMap"].end());

  // ... and as Muster's API shows them.
  json api = Server();
  EXPECT_EQ(api["metadata"]["labels"]["agones.dev/sdk-mode"], "ranked");
  EXPECT_EQ(api["metadata"]["annotations"]["agones.dev/sdk-note"], "hello from node");
  EXPECT_FALSE(api["metadata"]["labels"].contains("agones.dev/sdk-has space"));
  EXPECT_EQ(api["status"]["players"], json::parse(R"({"count":1,"capacity":3,"ids":["p1"]})"));
  EXPECT_EQ(api["status"]["counters"], json::parse(R"({"rooms":{"count":2,"capacity":20},
                                                      "sessions":{"count":7,"capacity":100}})"));
  EXPECT_EQ(api["status"]["lists"], json::parse(R"({"maps":{"capacity":5,"values":["nuke"]}})"));

  // ---- Ready, then Reserve(3) with its timer, seen by Muster and by the watch
  Step("ready");
  EXPECT_EQ(State(), "Ready");
  Go("reserve");
  EXPECT_TRUE(PollUntil([&] { return State() == "Reserved"; }, 10s, 20ms)) << State();
  json expired = Step("reserve-expired");
  EXPECT_EQ(State(), "Ready") << "the reservation ended on its own";
  ASSERT_TRUE(expired["states"].is_array());
  EXPECT_EQ(expired["states"].front(), "Reserved");
  EXPECT_EQ(expired["states"].back(), "Ready");

  // ---- a matchmaker allocates it through Muster; the server learns it by the watch
  Step("waiting-for-allocation");
  json alloc = muster_.Call("POST", "/v1/allocations",
                            json::parse(R"({"selectors":[{"matchLabels":{"game":"node"}}],
                      "metadata":{"labels":{"match":"m-42"}}})"),
                            &status);
  ASSERT_EQ(status, 201) << alloc.dump();
  EXPECT_EQ(alloc["gameServer"], "node-gs");
  json seen = Step("allocated-seen");
  EXPECT_NE(std::find(seen["labels"].begin(), seen["labels"].end(), json::array({"match", "m-42"})),
            seen["labels"].end())
      << seen.dump();

  // ---- Allocated -> Ready for reuse, then self-allocation
  Go("reuse");
  Step("ready-again");
  api = Server();
  EXPECT_EQ(api["status"]["state"], "Ready");
  EXPECT_FALSE(api["status"].contains("allocation")) << "the session is over";
  Go("self-allocate");
  Step("self-allocated");
  api = Server();
  EXPECT_EQ(api["status"]["state"], "Allocated");
  EXPECT_TRUE(api["metadata"]["annotations"].contains("agones.dev/last-allocated"));

  // ---- Shutdown: the server goes away (Muster stops the process once Shutdown is
  // durable, so the driver may not live to report the step)
  Go("shutdown");
  EXPECT_TRUE(PollUntil(
      [&] {
        int s = 0;
        json now = muster_.Call("GET", "/v1/gameservers/node-gs", nullptr, &s);
        return s == 404 || now["status"].value("state", "") == "Shutdown";
      },
      30s));
}

TEST_F(AgonesNodeSdk, HealthPingsOverTheGrpcStreamKeepItHealthy) {
  int status = 0;
  json m = Manifest();
  muster_.Call("POST", "/v1/gameservers", m, &status);
  ASSERT_EQ(status, 201);
  Step("ready");
  // periodSeconds 2, failureThreshold 3: without pings it would be Unhealthy after 6 s.
  // The driver pings every 200 ms over one client stream; it stays Ready past that.
  const auto since = std::chrono::steady_clock::now();
  EXPECT_FALSE(PollUntil([&] { return State() != "Ready"; }, 8s, 100ms)) << State();
  EXPECT_GE(std::chrono::steady_clock::now() - since, 8s);
}

}  // namespace
}  // namespace muster::testing
