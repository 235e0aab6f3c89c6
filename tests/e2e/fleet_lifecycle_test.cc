// The end-to-end scenario, against the real binary: a 50-replica echo
// fleet comes up and echoes; crashes and health failures are replaced; `kill -9`
// of muster serve leaves the matches running and the next start re-adopts them;
// scaling to 0 leaves no process behind.
#include <signal.h>
#include <sys/wait.h>

#include <filesystem>
#include <map>

#include <gtest/gtest.h>

#include "support/muster_process.h"
#include "support/poll.h"

namespace muster::testing {
namespace {
using namespace std::chrono_literals;

constexpr int kReplicas = 50;

std::map<std::string, int> PidsByName(const std::vector<json>& servers) {
  std::map<std::string, int> out;
  for (const json& gs : servers) out[gs["metadata"]["name"]] = gs["status"].value("pid", 0);
  return out;
}

int GamePort(const json& gs) { return gs["status"]["ports"][0]["port"].get<int>(); }

TEST(FleetLifecycle, FiftyServersCrashHealthRestartAndScaleToZero) {
  MusterProcess muster({"21000-21999", "22000-23999", {}});
  ASSERT_TRUE(muster.Start());
  json health = {{"initialDelaySeconds", 2}, {"periodSeconds", 1}, {"failureThreshold", 2}};
  int status = 0;
  muster.Call("POST", "/v1/fleets", EchoFleet("echo", kReplicas, health), &status);
  ASSERT_EQ(status, 201);

  // All 50 reach Ready, each on its own port, and each echoes.
  auto all_ready = [&] {
    return muster.InState("echo", "Ready").size() == kReplicas &&
           muster.GameServers("echo").size() == kReplicas;
  };
  ASSERT_TRUE(PollUntil(all_ready, 90s)) << muster.ServeLog();
  std::vector<json> ready = muster.InState("echo", "Ready");
  std::set<int> ports;
  for (const json& gs : ready) {
    ports.insert(GamePort(gs));
    EXPECT_TRUE(ProcessAlive(gs["status"]["pid"])) << gs.dump();
    EXPECT_TRUE(PollUntil(
        [&] { return UdpEcho(GamePort(gs), "hello " + gs["metadata"]["name"].get<std::string>()); },
        5s))
        << "no echo from " << gs["metadata"]["name"];
  }
  EXPECT_EQ(ports.size(), static_cast<size_t>(kReplicas)) << "two servers share a port";

  // kill -9 of one game server: it is replaced.
  const std::string crashed = ready[0]["metadata"]["name"];
  ASSERT_EQ(::kill(ready[0]["status"]["pid"].get<int>(), SIGKILL), 0);
  auto replaced = [&](const std::string& name) {
    auto now = PidsByName(muster.InState("echo", "Ready"));
    return now.size() == kReplicas && now.count(name) == 0;
  };
  EXPECT_TRUE(PollUntil([&] { return replaced(crashed); }, 30s)) << muster.ServeLog();

  // One server stops pinging health: it turns Unhealthy, then is replaced.
  json quiet = muster.InState("echo", "Ready")[1];
  const std::string quiet_name = quiet["metadata"]["name"];
  ASSERT_EQ(::kill(quiet["status"]["pid"].get<int>(), SIGUSR1), 0);
  bool seen_unhealthy = PollUntil(
      [&] {
        int st = 0;
        json gs = muster.Call("GET", "/v1/gameservers/" + quiet_name, nullptr, &st);
        return st == 404 || gs["status"]["state"] == "Unhealthy";
      },
      30s);
  EXPECT_TRUE(seen_unhealthy);
  EXPECT_TRUE(PollUntil([&] { return replaced(quiet_name); }, 30s)) << muster.ServeLog();
  EXPECT_NE(muster.ServeLog().find(quiet_name + " is Unhealthy: no health ping"),
            std::string::npos);

  // kill -9 of muster serve: game servers keep running; a new serve re-adopts them.
  ASSERT_TRUE(PollUntil(all_ready, 30s));
  auto before = PidsByName(muster.InState("echo", "Ready"));
  muster.Kill9();
  for (const auto& [name, pid] : before)
    EXPECT_TRUE(ProcessAlive(pid)) << name << " died with Muster";
  // As if the crash came between a start and the write of its pid: a process of this
  // serve that no stored server names. The next start kills it.
  const int stray =
      Spawn({"/bin/sleep", "600"}, "/dev/null", "/dev/null",
            {"MUSTER_INSTANCE=" + std::filesystem::canonical(muster.data_dir()).string(),
             "MUSTER_GAMESERVER_NAME=echo-unrecorded"});
  ASSERT_GT(stray, 0);
  const bool stray_seen = ProcessAlive(stray);
  const bool restarted = muster.Start();
  const bool stray_killed = PollUntil([&] { return !ProcessAlive(stray); }, 10s);
  ::kill(stray, SIGKILL);  // whatever happened, it ends with this test: reaped here
  ::waitpid(stray, nullptr, 0);
  ASSERT_TRUE(stray_seen);
  ASSERT_TRUE(restarted);
  EXPECT_TRUE(stray_killed) << muster.ServeLog();
  EXPECT_NE(muster.ServeLog().find("killed process " + std::to_string(stray) +
                                   " of game server echo-unrecorded"),
            std::string::npos);
  auto after = PidsByName(muster.InState("echo", "Ready"));
  EXPECT_EQ(after, before) << "not the same processes after restart";
  for (const json& gs : muster.InState("echo", "Ready"))
    EXPECT_TRUE(PollUntil([&] { return UdpEcho(GamePort(gs), "still here"); }, 5s));
  // Health keeps being tracked after the restart: servers stay Ready past the deadline window.
  EXPECT_FALSE(PollUntil([&] { return muster.InState("echo", "Ready").size() < kReplicas; }, 5s));

  // A crash after the restart is still noticed.
  const auto& [victim, victim_pid] = *after.begin();
  ASSERT_EQ(::kill(victim_pid, SIGKILL), 0);
  EXPECT_TRUE(PollUntil([&] { return replaced(victim); }, 30s)) << muster.ServeLog();
  // The port registry was rebuilt from the store: the replacement took no port in use.
  std::set<int> ports_after;
  for (const json& gs : muster.InState("echo", "Ready")) ports_after.insert(GamePort(gs));
  EXPECT_EQ(ports_after.size(), static_cast<size_t>(kReplicas));

  // Scale to 0: no game-server process remains.
  std::vector<int> pids;
  for (const json& gs : muster.GameServers("echo")) pids.push_back(gs["status"].value("pid", 0));
  muster.Call("PUT", "/v1/fleets/echo/scale", {{"replicas", 0}}, &status);
  ASSERT_EQ(status, 200);
  EXPECT_TRUE(PollUntil([&] { return muster.GameServers("echo").empty(); }, 60s));
  for (int pid : pids)
    EXPECT_TRUE(PollUntil([&] { return !ProcessAlive(pid); }, 10s))
        << "pid " << pid << " still runs";
}

// A fleet whose command cannot start shows why and backs off instead of spinning.
TEST(FleetLifecycle, StartFailureIsReportedAndBacksOff) {
  MusterProcess muster({"24000-24099", "24100-24299", {}});
  ASSERT_TRUE(muster.Start());
  json fleet = EchoFleet("broken", 2);
  fleet["spec"]["template"]["spec"]["template"]["spec"]["containers"][0]["command"] =
      json::array({"/nonexistent/game-server"});
  int status = 0;
  muster.Call("POST", "/v1/fleets", fleet, &status);
  ASSERT_EQ(status, 201);
  json f;
  ASSERT_TRUE(PollUntil(
      [&] {
        f = muster.Call("GET", "/v1/fleets/broken");
        return f["status"].value("consecutiveFailures", 0) >= 2;
      },
      20s))
      << f.dump();
  EXPECT_EQ(f["status"]["reason"], "StartFailed");
  EXPECT_NE(f["status"]["message"].get<std::string>().find("/nonexistent/game-server"),
            std::string::npos);
  // Backing off (1 s, doubling): over the next 2 s the count never reaches 8, where a
  // hot loop would reach hundreds.
  EXPECT_FALSE(PollUntil(
      [&] {
        f = muster.Call("GET", "/v1/fleets/broken");
        return f["status"].value("consecutiveFailures", 0) >= 8;
      },
      2s))
      << f.dump();
}

}  // namespace
}  // namespace muster::testing
