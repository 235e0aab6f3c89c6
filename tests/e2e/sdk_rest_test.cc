// The minimum Agones REST SDK on a game server's own port, driven the way a game
// server would: a standalone GameServer whose process does nothing, while the test
// plays the game server's part over its AGONES_SDK_HTTP_PORT.
#include <gtest/gtest.h>

#include "support/muster_process.h"
#include "support/poll.h"

namespace muster::testing {
namespace {
using namespace std::chrono_literals;

json SilentServer(const std::string& name) {
  json gs = json::parse(R"({
    "apiVersion": "muster.dev/v1", "kind": "GameServer",
    "metadata": {"labels": {"mode": "test"}},
    "spec": {
      "ports": [{"name": "game", "protocol": "TCP"}],
      "health": {"initialDelaySeconds": 1, "periodSeconds": 1, "failureThreshold": 2},
      "template": {"spec": {"terminationGracePeriodSeconds": 2,
                            "containers": [{"name": "c", "command": ["sleep", "600"]}]}}}})");
  gs["metadata"]["name"] = name;
  return gs;
}

TEST(SdkRest, ReadyHealthGameServerShutdownAndIsolation) {
  MusterProcess muster({"25000-25099", "25100-25299", {}});
  ASSERT_TRUE(muster.Start());
  int status = 0;
  json a = muster.Call("POST", "/v1/gameservers", SilentServer("solo-a"), &status);
  ASSERT_EQ(status, 201) << a.dump();
  json b = muster.Call("POST", "/v1/gameservers", SilentServer("solo-b"), &status);
  ASSERT_EQ(status, 201);

  json gs_a, gs_b;
  ASSERT_TRUE(PollUntil(
      [&] {
        gs_a = muster.Call("GET", "/v1/gameservers/solo-a");
        gs_b = muster.Call("GET", "/v1/gameservers/solo-b");
        return gs_a["status"]["state"] == "Starting" && gs_b["status"]["state"] == "Starting";
      },
      10s))
      << gs_a.dump();
  const int sdk_a = gs_a["status"]["sdkPorts"]["http"];
  const int sdk_b = gs_b["status"]["sdkPorts"]["http"];
  ASSERT_NE(sdk_a, sdk_b);
  api::HttpClient sdk("127.0.0.1", sdk_a);

  // Bad input first: nothing changes.
  auto empty = sdk.Send(api::http::verb::post, "/health", "");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->status, 400) << "an empty /health body is refused, as Agones' gateway does";
  EXPECT_EQ(sdk.Send(api::http::verb::post, "/ready", "[1,2")->status, 400);
  EXPECT_EQ(muster.Call("GET", "/v1/gameservers/solo-a")["status"]["state"], "Starting");

  // Ready on A's port moves A only.
  auto ready = sdk.Send(api::http::verb::post, "/ready", "{}");
  ASSERT_TRUE(ready.ok());
  EXPECT_EQ(ready->status, 200);
  EXPECT_EQ(ready->body, "{}\n");
  EXPECT_EQ(muster.Call("GET", "/v1/gameservers/solo-a")["status"]["state"], "Ready");
  EXPECT_EQ(muster.Call("GET", "/v1/gameservers/solo-b")["status"]["state"], "Starting");

  // GET /gameserver in the gateway's JSON.
  auto got = sdk.Send(api::http::verb::get, "/gameserver");
  ASSERT_TRUE(got.ok());
  json g = json::parse(got->body);
  EXPECT_EQ(g["object_meta"]["name"], "solo-a");
  EXPECT_EQ(g["object_meta"]["labels"]["mode"], "test");
  EXPECT_TRUE(g["object_meta"]["creation_timestamp"].is_string()) << "int64 is a JSON string";
  EXPECT_EQ(g["spec"]["health"]["period_seconds"], 1);
  EXPECT_EQ(g["status"]["state"], "Ready");
  EXPECT_EQ(g["status"]["ports"][0]["name"], "game");
  EXPECT_EQ(g["status"]["ports"][0]["port"], gs_a["status"]["ports"][0]["port"]);

  // Pinging keeps A healthy past its deadline; B, silent, turns Unhealthy.
  bool b_unhealthy = PollUntil(
      [&] {
        EXPECT_EQ(sdk.Send(api::http::verb::post, "/health", "{}")->status, 200);
        return muster.Call("GET", "/v1/gameservers/solo-b")["status"]["state"] == "Unhealthy";
      },
      15s, 200ms);
  EXPECT_TRUE(b_unhealthy);
  EXPECT_EQ(muster.Call("GET", "/v1/gameservers/solo-a")["status"]["state"], "Ready");
  // A standalone server stays for inspection, with its process stopped; nothing leaves Unhealthy.
  json sick = muster.Call("GET", "/v1/gameservers/solo-b");
  EXPECT_EQ(sick["status"]["reason"], "HealthCheckFailed");
  api::HttpClient sdk_b_client("127.0.0.1", sdk_b);
  auto refused = sdk_b_client.Send(api::http::verb::post, "/ready", "{}");
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->status, 409) << refused->body;
  EXPECT_TRUE(PollUntil([&] { return !ProcessAlive(sick["status"]["pid"]); }, 10s));

  // Shutdown through the SDK: A's process stops and its record goes.
  const int pid_a = gs_a["status"]["pid"];
  EXPECT_EQ(sdk.Send(api::http::verb::post, "/shutdown", "{}")->status, 200);
  EXPECT_TRUE(PollUntil(
      [&] {
        muster.Call("GET", "/v1/gameservers/solo-a", nullptr, &status);
        return status == 404;
      },
      10s));
  EXPECT_FALSE(ProcessAlive(pid_a));
  // Its SDK port is closed with it.
  EXPECT_TRUE(PollUntil(
      [&] {
        return !api::HttpClient("127.0.0.1", sdk_a).Send(api::http::verb::get, "/gameserver").ok();
      },
      5s));

  // Deleting the Unhealthy one through the API removes it.
  muster.Call("DELETE", "/v1/gameservers/solo-b", nullptr, &status);
  EXPECT_EQ(status, 200);
  EXPECT_TRUE(PollUntil([&] { return muster.GameServers().empty(); }, 10s));
}

TEST(SdkRest, AGameServerOfAFleetCannotBeEditedDirectly) {
  MusterProcess muster({"25300-25399", "25400-25599", {}});
  ASSERT_TRUE(muster.Start());
  int status = 0;
  muster.Call("POST", "/v1/fleets", EchoFleet("f", 1), &status);
  ASSERT_EQ(status, 201);
  ASSERT_TRUE(PollUntil([&] { return muster.GameServers("f").size() == 1; }, 10s));
  json gs = muster.GameServers("f")[0];
  json manifest = SilentServer(gs["metadata"]["name"]);
  json err = muster.Call("PUT", "/v1/gameservers/" + gs["metadata"]["name"].get<std::string>(),
                         manifest, &status);
  EXPECT_EQ(status, 409) << err.dump();
  EXPECT_NE(err["message"].get<std::string>().find("belongs to fleet f"), std::string::npos);
}

}  // namespace
}  // namespace muster::testing
