// The CLI as a user runs it, against a real `muster serve`.
#include <sched.h>

#include <filesystem>
#include <fstream>
#include <set>

#include <gtest/gtest.h>

#include "support/muster_process.h"
#include "support/poll.h"

namespace muster::testing {
namespace {
using namespace std::chrono_literals;

TEST(Cli, ApplyGetDescribeScaleLogsDelete) {
  MusterProcess muster({"24600-24699", "24700-24899", {}});
  ASSERT_TRUE(muster.Start());
  std::string manifest = muster.data_dir() + "/echo.yaml";
  {
    std::ofstream out(manifest);
    out << EchoFleet("cli-echo", 2).dump();
  }
  std::string out, err;
  ASSERT_EQ(muster.Cli({"apply", "-f", manifest}, &out, &err), 0) << err;
  EXPECT_EQ(out, "fleet/cli-echo created\n");
  ASSERT_EQ(muster.Cli({"apply", "-f", manifest}, &out, &err), 0) << err;
  EXPECT_EQ(out, "fleet/cli-echo unchanged\n");
  {
    json changed = EchoFleet("cli-echo", 2);
    changed["metadata"]["labels"] = {{"tier", "gold"}};
    std::ofstream f(manifest);
    f << changed.dump();
  }
  ASSERT_EQ(muster.Cli({"apply", "-f", manifest}, &out, &err), 0) << err;
  EXPECT_EQ(out, "fleet/cli-echo configured\n");

  ASSERT_TRUE(PollUntil([&] { return muster.InState("cli-echo", "Ready").size() == 2; }, 30s));
  // The fleet's status follows its servers' a moment later: poll the table itself.
  EXPECT_TRUE(PollUntil(
      [&] {
        muster.Cli({"get", "fleets"}, &out);
        return out.find("cli-echo   2          2         2       0           0") !=
               std::string::npos;
      },
      10s))
      << out;
  EXPECT_EQ(out.substr(0, out.find('\n')),
            "NAME       REPLICAS   CURRENT   READY   ALLOCATED   RESERVED   AGE");

  ASSERT_EQ(muster.Cli({"get", "gameservers", "-o", "wide"}, &out), 0);
  EXPECT_NE(out.find("FLEET"), std::string::npos);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 3) << out;

  ASSERT_EQ(muster.Cli({"get", "gs", "-o", "json"}, &out), 0);
  json list = json::parse(out);
  ASSERT_EQ(list["items"].size(), 2u);
  const std::string server = list["items"][0]["metadata"]["name"];

  ASSERT_EQ(muster.Cli({"get", "fleet", "cli-echo", "-o", "yaml"}, &out), 0);
  EXPECT_NE(out.find("kind: Fleet"), std::string::npos) << out;
  EXPECT_NE(out.find("replicas: 2"), std::string::npos) << out;

  ASSERT_EQ(muster.Cli({"describe", "fleet", "cli-echo"}, &out), 0);
  EXPECT_NE(out.find("Name:         cli-echo"), std::string::npos) << out;
  EXPECT_NE(out.find("Game servers:"), std::string::npos) << out;

  ASSERT_TRUE(PollUntil(
      [&] {
        muster.Cli({"logs", server}, &out);
        return out.find("muster-echo: Ready") != std::string::npos;
      },
      10s))
      << out;

  ASSERT_EQ(muster.Cli({"scale", "fleet", "cli-echo", "--replicas", "1"}, &out, &err), 0) << err;
  EXPECT_TRUE(PollUntil([&] { return muster.GameServers("cli-echo").size() == 1; }, 30s));

  ASSERT_EQ(muster.Cli({"delete", "fleet", "cli-echo"}, &out, &err), 0) << err;
  EXPECT_TRUE(PollUntil([&] { return muster.GameServers().empty(); }, 30s));
  EXPECT_NE(muster.Cli({"get", "fleet", "cli-echo"}, &out, &err), 0);
  EXPECT_NE(err.find("not found"), std::string::npos) << err;
}

TEST(Cli, ErrorsAreClear) {
  MusterProcess muster({"24900-24949", "24950-24999", {}});
  ASSERT_TRUE(muster.Start());
  std::string out, err;
  std::string bad = muster.data_dir() + "/bad.yaml";
  {
    std::ofstream f(bad);
    f << "apiVersion: muster.dev/v1\nkind: Fleet\nmetadata: {name: x}\nspec:\n  replicas: -2\n"
         "  template:\n    spec:\n      template:\n        spec:\n          containers: [{name: "
         "c}]\n";
  }
  EXPECT_EQ(muster.Cli({"apply", "-f", bad}, &out, &err), 1);
  EXPECT_NE(err.find("spec.replicas: must not be negative"), std::string::npos) << err;
  EXPECT_NE(err.find("containers[0].command"), std::string::npos) << err;

  EXPECT_NE(muster.Cli({"scale", "fleet", "x", "--replicas", "-1"}, &out, &err), 0);
  EXPECT_NE(err.find("--replicas"), std::string::npos) << err;
  EXPECT_NE(muster.Cli({"get", "widgets"}, &out, &err), 0);
  EXPECT_NE(err.find("fleets or gameservers"), std::string::npos) << err;

  // A field is named once, also where the server's message starts with it.
  EXPECT_EQ(muster.Cli({"allocate", "--fleet", "nosuch"}, &out, &err), 1);
  EXPECT_NE(err.find("error: fleet nosuch not found"), std::string::npos) << err;
  // Flags the CLI can check itself are refused before anything is sent, exit 100+, naming
  // the flag: an empty --fleet or --session (an unset variable) would otherwise mean any
  // fleet, or no session.
  struct BadFlag {
    std::vector<std::string> args;
    std::string says;
  };
  for (const BadFlag& b : std::vector<BadFlag>{
           {{"allocate", "--fleet", ""}, "--fleet: must not be empty"},
           {{"allocate", "--session", "  "}, "--session: must not be empty"},
           {{"allocate", "--scheduling", "packed"},
            "Packed, Distributed or NewestNode, got packed"},
           {{"allocate", "--session", "\tx"}, "--session: must not start or end with a space"},
           {{"register", "x", "--address", "10.0.0.1", "--port", "g=1", "--fleet", ""},
            "--fleet: must not be empty"},
           {{"get", "gameservers", "--fleet", " "}, "--fleet: must not be empty"},
           {{"allocate", "-l", "bad key!=x"}, "--selector: \"bad key!\" is no label key"},
           {{"allocate", "-l", "game=a", "-l", "game=b"},
            "--selector: the key \"game\" is given twice"},
           {{"allocate", "--set-annotation", "bad key=1"},
            "--set-annotation: \"bad key\" is no annotation key"},
           {{"allocate", "--set-label", "m=1", "--set-label", "m=2"},
            "--set-label: the key \"m\" is given twice"},
           {{"allocate", "--state", "allocated"}, "--state: allocated not in {Ready,Allocated}"},
           {{"allocate", "--min-players-free", "-1"}, "--min-players-free"},
           {{"allocate", "--state", "Allocated", "--player", "p1"},
            "--player: only a fresh session takes one"},
           {{"allocate", "--player", " "}, "--player: must not be empty"},
           {{"allocate", "--priority", "Gauge:rooms"},
            "--priority: the type must be Counter or List, got Gauge"},
           {{"allocate", "--priority", "Counter:"}, "--priority: must be Counter|List:KEY"},
           {{"allocate", "--priority", "List:maps:Up"},
            "--priority: the order must be Ascending or Descending, got Up"},
           {{"token", "create", "--scope", "bogus"}, "admin, allocate or read, got bogus"},
           {{"register", "x", "--address", "10.0.0.1"}, "--port is required"},
           {{"register", "x", "--address", "10.0.0.1", "--port", "g=1", "-l", "a=b c"},
            "--label: \"b c\" is no label value"},
       }) {
    const int rc = muster.Cli(b.args, &out, &err);
    EXPECT_GE(rc, 100) << b.args[0] << " " << b.args[1] << ": " << err;
    EXPECT_NE(err.find(b.says), std::string::npos) << err;
  }
  EXPECT_GE(RunCommand({MUSTER_BIN, "--addr", "nonsense", "get", "fleets"}, &out, &err), 100);
  EXPECT_NE(err.find("--addr: address \"nonsense\" must be HOST:PORT"), std::string::npos) << err;
  EXPECT_TRUE(muster.GameServers().empty()) << "nothing was registered";
  // What only the server can check comes back naming the field once.
  EXPECT_EQ(muster.Cli({"register", "x", "--address", "300.1.2.3", "--port", "g=1"}, &out, &err),
            1);
  EXPECT_NE(err.find("error: spec.external.address: must be a host name"), std::string::npos)
      << err;
  EXPECT_EQ(err.find("spec.external.address: spec.external.address"), std::string::npos) << err;
  // A refused token says where tokens come from.
  EXPECT_EQ(RunCommand({MUSTER_BIN, "--addr", muster.addr(), "--token", "nope", "get", "fleets"},
                       &out, &err),
            1);
  EXPECT_NE(err.find("unknown token"), std::string::npos) << err;
  EXPECT_NE(err.find("MUSTER_TOKEN"), std::string::npos) << err;

  // Unreachable server: says where it looked, and exits 2, not 1 (nothing was refused).
  EXPECT_EQ(RunCommand({MUSTER_BIN, "--addr", "127.0.0.1:1", "get", "fleets"}, &out, &err), 2);
  EXPECT_NE(err.find("cannot reach Muster at 127.0.0.1:1"), std::string::npos) << err;

  // --help on every verb.
  for (const char* verb : {"serve", "apply", "get", "describe", "scale", "delete", "logs"}) {
    EXPECT_EQ(RunCommand({MUSTER_BIN, verb, "--help"}, &out, &err), 0) << verb;
    EXPECT_NE(out.find("Usage"), std::string::npos) << verb << ": " << out;
  }
}

TEST(Cli, ServeReportsEveryBadFlagAtOnce) {
  std::string out, err;
  int rc = RunCommand(
      {MUSTER_BIN, "serve", "--data-dir", "/tmp/muster-never", "--game-ports", "9-1", "--sdk-ports",
       "abc", "--listen", "nowhere", "--cpu-policy", "fast", "--cpu-idle", "spin"},
      &out, &err);
  EXPECT_EQ(rc, 2);
  EXPECT_NE(err.find("--game-ports"), std::string::npos) << err;
  EXPECT_NE(err.find("--sdk-ports"), std::string::npos) << err;
  EXPECT_NE(err.find("--listen"), std::string::npos) << err;
  EXPECT_NE(err.find("--cpu-policy: batch or normal, got \"fast\""), std::string::npos) << err;
  EXPECT_NE(err.find("--cpu-idle: sleep or poll, got \"spin\""), std::string::npos) << err;
  EXPECT_FALSE(std::filesystem::exists("/tmp/muster-never"));
}

// The scheduling policies of a process's threads, read from /proc (a thread that ended
// between the listing and the question is left out).
std::set<int> ThreadPolicies(int pid) {
  std::set<int> policies;
  for (const auto& task :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task"))
    if (int policy = ::sched_getscheduler(std::stoi(task.path().filename().string())); policy >= 0)
      policies.insert(policy);
  return policies;
}

TEST(Cli, ServeRunsItsThreadsAtTheCpuPolicyAskedForAndItsGameServersAtTheDefault) {
  {
    MusterProcess muster({"29300-29339", "29340-29399", {}});  // the default: batch
    ASSERT_TRUE(muster.Start());
    EXPECT_EQ(ThreadPolicies(muster.serve_pid()), std::set<int>{SCHED_BATCH});
    int status = 0;
    muster.Call("POST", "/v1/fleets", EchoFleet("policy", 1), &status);
    ASSERT_EQ(status, 201);
    ASSERT_TRUE(PollUntil([&] { return muster.InState("policy", "Ready").size() == 1; }, 30s));
    const int game_pid = muster.InState("policy", "Ready")[0]["status"]["pid"].get<int>();
    EXPECT_EQ(ThreadPolicies(game_pid), std::set<int>{SCHED_OTHER});
  }
  MusterProcess muster({"29300-29339", "29340-29399", {"--cpu-policy", "normal"}});
  ASSERT_TRUE(muster.Start());
  EXPECT_EQ(ThreadPolicies(muster.serve_pid()), std::set<int>{SCHED_OTHER});
}

TEST(Cli, ServeKeepsIdleCpusPollingOnlyWhenAskedAndOnlyWhileItRuns) {
  const std::optional<int> before = CpuWakeLatencyUs();
  if (!before) GTEST_SKIP() << "/dev/cpu_dma_latency cannot be read here (it needs root)";
  ASSERT_NE(*before, 0) << "something else already keeps this machine's CPUs polling";
  {
    MusterProcess muster({"29300-29339", "29340-29399", {}});  // the default: sleep
    ASSERT_TRUE(muster.Start());
    EXPECT_EQ(CpuWakeLatencyUs(), before);
  }
  {
    MusterProcess muster({"29300-29339", "29340-29399", {"--cpu-idle", "poll"}});
    ASSERT_TRUE(muster.Start());
    EXPECT_EQ(CpuWakeLatencyUs(), 0);
    EXPECT_NE(muster.ServeLog().find("idle CPUs poll"), std::string::npos) << muster.ServeLog();
  }
  EXPECT_EQ(CpuWakeLatencyUs(), before) << "the request outlived the serve";
}

}  // namespace
}  // namespace muster::testing
