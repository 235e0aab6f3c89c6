// Allocation against the real binary: contention, exactly-once sessions, a crash
// under load, races with scale-down, Reserved servers and registered servers.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "support/muster_process.h"
#include "support/poll.h"

namespace muster::testing {
namespace {
using namespace std::chrono_literals;

json PoolRequest(const std::string& pool, const std::string& session) {
  json r = {{"selectors", json::array({{{"matchLabels", {{"pool", pool}}}}})}};
  if (!session.empty()) r["sessionId"] = session;
  return r;
}

// `session` joins a running session of the pool (gameServerState: Allocated).
json JoinRequest(const std::string& pool, const std::string& session) {
  json r = PoolRequest(pool, session);
  r["selectors"][0]["gameServerState"] = "Allocated";
  return r;
}

struct Answer {
  std::string session, server;
};

TEST(Allocation, ConcurrentDemandBeyondSupplyGivesEachServerOnceAndTheRest429) {
  MusterProcess muster({"25600-25699", "25700-25999", {}});
  ASSERT_TRUE(muster.Start());
  RegisterPool(muster, "small", 30);
  std::mutex mu;
  std::vector<Answer> ok;
  std::atomic<int> exhausted{0}, other{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 16; ++t) {
    clients.emplace_back([&, t] {
      auto hp = api::ParseAddress(muster.addr()).value();
      api::HttpClient c(hp.first, hp.second, muster.token());
      for (int i = 0; i < 8; ++i) {
        std::string session = "c" + std::to_string(t) + "-" + std::to_string(i);
        auto r =
            c.Send(api::http::verb::post, "/v1/allocations", PoolRequest("small", session).dump());
        if (!r.ok()) {
          ++other;
          continue;
        }
        if (r->status == 201) {
          std::lock_guard lock(mu);
          ok.push_back({session, json::parse(r->body)["gameServer"]});
        } else if (r->status == 429) {
          ++exhausted;
          EXPECT_EQ(r->headers["retry-after"], "1");
        } else {
          ++other;
        }
      }
    });
  }
  for (auto& c : clients) c.join();
  EXPECT_EQ(ok.size(), 30u);
  EXPECT_EQ(exhausted.load(), 16 * 8 - 30);
  EXPECT_EQ(other.load(), 0);
  std::set<std::string> servers;
  for (const auto& a : ok)
    EXPECT_TRUE(servers.insert(a.server).second) << a.server << " handed out twice";
  // The answers match the store.
  for (const auto& a : ok) {
    json gs = muster.Call("GET", "/v1/gameservers/" + a.server);
    EXPECT_EQ(gs["status"]["state"], "Allocated");
    EXPECT_EQ(gs["status"]["allocation"]["sessionId"], a.session);
  }
  EXPECT_TRUE(muster.InState("", "Ready").empty());
}

TEST(Allocation, ASessionGetsOneServerAlsoAfterARestart) {
  MusterProcess muster({"26000-26099", "26100-26399", {}});
  ASSERT_TRUE(muster.Start());
  RegisterPool(muster, "p", 5);
  int status = 0;
  json first = muster.Call("POST", "/v1/allocations", PoolRequest("p", "match-42"), &status);
  ASSERT_EQ(status, 201);
  json again = muster.Call("POST", "/v1/allocations", PoolRequest("p", "match-42"), &status);
  EXPECT_EQ(status, 200) << "a repeat is answered, not allocated again";
  EXPECT_EQ(again["gameServer"], first["gameServer"]);
  EXPECT_EQ(muster.InState("", "Allocated").size(), 1u);
  muster.Kill9();
  ASSERT_TRUE(muster.Start());
  json after = muster.Call("POST", "/v1/allocations", PoolRequest("p", "match-42"), &status);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(after["gameServer"], first["gameServer"]);
  EXPECT_EQ(after["address"], "10.1.0.1");
  EXPECT_EQ(muster.InState("", "Allocated").size(), 1u);
  // Without a sessionId each request is a new session with a generated id.
  json anon = muster.Call("POST", "/v1/allocations", PoolRequest("p", ""), &status);
  EXPECT_EQ(status, 201);
  EXPECT_EQ(anon["sessionId"].get<std::string>().size(), 36u);
  EXPECT_NE(anon["gameServer"], first["gameServer"]);
}

TEST(Allocation, AJoiningSessionFindsItsServerAgainAlsoAfterARestart) {
  MusterProcess muster({"29700-29799", "29800-29999", {}});
  ASSERT_TRUE(muster.Start());
  RegisterPool(muster, "j", 3);
  int status = 0;
  json first = muster.Call("POST", "/v1/allocations", PoolRequest("j", "match-1"), &status);
  ASSERT_EQ(status, 201);
  const json join = JoinRequest("j", "player-9");
  json joined = muster.Call("POST", "/v1/allocations", join, &status);
  ASSERT_EQ(status, 201) << joined.dump();
  EXPECT_EQ(joined["gameServer"], first["gameServer"]) << "the only running session";
  // Another running session now exists; the joining session still has its server.
  json second = muster.Call("POST", "/v1/allocations", PoolRequest("j", "match-2"), &status);
  ASSERT_EQ(status, 201);
  json again = muster.Call("POST", "/v1/allocations", join, &status);
  EXPECT_EQ(status, 200) << "a repeat is answered, not joined again";
  EXPECT_EQ(again["gameServer"], first["gameServer"]);
  muster.Kill9();
  ASSERT_TRUE(muster.Start());
  json after = muster.Call("POST", "/v1/allocations", join, &status);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(after["gameServer"], first["gameServer"]);
  json gs = muster.Call("GET", "/v1/gameservers/" + first["gameServer"].get<std::string>());
  EXPECT_EQ(gs["status"]["allocation"]["sessionId"], "match-1");
  EXPECT_EQ(gs["status"]["allocation"]["joinedSessions"], json::array({"player-9"}));
}

// A long-running session takes joins without end; its server remembers the most recent
// 128 (core::kJoinsRemembered), so its stored status stays small. A repeat of a join it
// still remembers is answered; one it forgot is a new join.
TEST(Allocation, AServerRemembersItsMostRecentJoinsNotEveryJoinEver) {
  MusterProcess muster({"29450-29499", "29500-29699", {}});
  ASSERT_TRUE(muster.Start());
  RegisterPool(muster, "lobby", 1);
  int status = 0;
  json first = muster.Call("POST", "/v1/allocations", PoolRequest("lobby", "world-1"), &status);
  ASSERT_EQ(status, 201) << first.dump();
  auto join = [&](int i) {
    return muster.Call("POST", "/v1/allocations",
                       JoinRequest("lobby", "player-" + std::to_string(i)), &status);
  };
  for (int i = 0; i <= 128; ++i) {
    json joined = join(i);
    ASSERT_EQ(status, 201) << i << ": " << joined.dump();
    ASSERT_EQ(joined["gameServer"], first["gameServer"]);
  }
  const std::string path = "/v1/gameservers/" + first["gameServer"].get<std::string>();
  json remembered = muster.Call("GET", path)["status"]["allocation"]["joinedSessions"];
  ASSERT_EQ(remembered.size(), 128u) << "129 joins, the oldest forgotten";
  EXPECT_EQ(remembered.front(), "player-1");
  EXPECT_EQ(remembered.back(), "player-128");
  join(1);
  EXPECT_EQ(status, 200) << "a join still remembered is answered, not joined again";
  join(0);
  EXPECT_EQ(status, 201) << "a forgotten join is a new join";
  remembered = muster.Call("GET", path)["status"]["allocation"]["joinedSessions"];
  EXPECT_EQ(remembered.size(), 128u);
  EXPECT_EQ(remembered.front(), "player-2");
  EXPECT_EQ(remembered.back(), "player-0");
  EXPECT_EQ(muster.Call("GET", path)["status"]["allocation"]["sessionId"], "world-1")
      << "the session joined is never forgotten";
}

TEST(Allocation, KillNineUnderLoadLosesNoAnsweredAllocation) {
  MusterProcess muster({"26400-26499", "26500-27499", {}});
  ASSERT_TRUE(muster.Start());
  RegisterPool(muster, "crash", 400);
  std::mutex mu;
  std::vector<Answer> answered;
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int t = 0; t < 8; ++t) {
    clients.emplace_back([&, t] {
      auto hp = api::ParseAddress(muster.addr()).value();
      api::HttpClient c(hp.first, hp.second, muster.token());
      c.set_timeout(2s);
      for (int i = 0; !stop; ++i) {
        std::string session = "k" + std::to_string(t) + "-" + std::to_string(i);
        auto r =
            c.Send(api::http::verb::post, "/v1/allocations", PoolRequest("crash", session).dump());
        if (!r.ok()) break;  // Muster is gone
        if (r->status == 201) {
          std::lock_guard lock(mu);
          answered.push_back({session, json::parse(r->body)["gameServer"]});
        }
      }
    });
  }
  ASSERT_TRUE(PollUntil(
      [&] {
        std::lock_guard lock(mu);
        return answered.size() >= 100;
      },
      30s, 1ms));
  muster.Kill9();  // with requests in flight
  stop = true;
  for (auto& c : clients) c.join();
  ASSERT_TRUE(muster.Start());
  std::set<std::string> servers;
  for (const auto& a : answered) {
    EXPECT_TRUE(servers.insert(a.server).second) << a.server << " was in two successful answers";
    json gs = muster.Call("GET", "/v1/gameservers/" + a.server);
    EXPECT_EQ(gs["status"]["state"], "Allocated") << a.server;
    EXPECT_EQ(gs["status"]["allocation"]["sessionId"], a.session) << a.server;
  }
  EXPECT_LT(answered.size(), 400u) << "the kill should land while the pool still has servers";
  std::cout << "answered before the kill: " << answered.size()
            << "; all still Allocated to their sessions\n";
}

TEST(Allocation, RacingAScaleDownNeverLeavesASessionOnADeletedServer) {
  MusterProcess muster({"27500-27599", "27600-27799", {}});
  ASSERT_TRUE(muster.Start());
  int status = 0;
  muster.Call("POST", "/v1/fleets", EchoFleet("race", 20), &status);
  ASSERT_EQ(status, 201);
  ASSERT_TRUE(PollUntil([&] { return muster.InState("race", "Ready").size() == 20; }, 60s));
  std::mutex mu;
  std::vector<Answer> ok;
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&, t] {
      auto hp = api::ParseAddress(muster.addr()).value();
      api::HttpClient c(hp.first, hp.second, muster.token());
      for (int i = 0; i < 10; ++i) {
        auto r = c.Send(api::http::verb::post, "/v1/allocations",
                        json{{"fleet", "race"},
                             {"sessionId", "r" + std::to_string(t) + "-" + std::to_string(i)}}
                            .dump());
        if (r.ok() && r->status == 201) {
          std::lock_guard lock(mu);
          ok.push_back({"", json::parse(r->body)["gameServer"]});
        }
      }
    });
  }
  muster.Call("PUT", "/v1/fleets/race/scale", {{"replicas", 0}}, &status);
  EXPECT_EQ(status, 200);
  for (auto& c : clients) c.join();
  // Scale-down takes the Ready ones; every answered session keeps its server.
  ASSERT_TRUE(PollUntil([&] { return muster.GameServers("race").size() == ok.size(); }, 30s))
      << ok.size() << " answered, " << muster.GameServers("race").size() << " left";
  for (const auto& a : ok) {
    json gs = muster.Call("GET", "/v1/gameservers/" + a.server, nullptr, &status);
    EXPECT_EQ(status, 200) << a.server << " was deleted under its session";
    EXPECT_EQ(gs["status"]["state"], "Allocated");
    EXPECT_FALSE(gs["metadata"].contains("deletionTimestamp"));
  }
}

TEST(Allocation, AReservedServerIsNeitherAllocatedNorScaledDownUntilItsTimerEnds) {
  MusterProcess muster({"27800-27899", "27900-28099", {}});
  ASSERT_TRUE(muster.Start());
  int status = 0;
  muster.Call("POST", "/v1/fleets", EchoFleet("res", 1), &status);
  ASSERT_TRUE(PollUntil([&] { return muster.InState("res", "Ready").size() == 1; }, 30s));
  json gs = muster.InState("res", "Ready")[0];
  const std::string name = gs["metadata"]["name"];
  api::HttpClient sdk("127.0.0.1", gs["status"]["sdkPorts"]["http"]);
  auto reserved = sdk.Send(api::http::verb::post, "/reserve", R"({"seconds":"3"})");
  ASSERT_TRUE(reserved.ok());
  ASSERT_EQ(reserved->status, 200) << reserved->body;
  EXPECT_EQ(muster.Call("GET", "/v1/gameservers/" + name)["status"]["state"], "Reserved");
  json err = muster.Call("POST", "/v1/allocations", {{"fleet", "res"}}, &status);
  EXPECT_EQ(status, 429) << "a Reserved server is never allocated";
  muster.Call("PUT", "/v1/fleets/res/scale", {{"replicas", 0}}, &status);
  EXPECT_FALSE(PollUntil(
      [&] {
        return muster.Call("GET", "/v1/gameservers/" + name)["status"]["state"] != "Reserved";
      },
      1500ms))
      << "not scaled down while Reserved";
  // The timer ends: Ready again, and then the scale-down to 0 takes it.
  EXPECT_TRUE(PollUntil(
      [&] {
        muster.Call("GET", "/v1/gameservers/" + name, nullptr, &status);
        return status == 404;
      },
      15s));
}

TEST(Allocation, ARegisteredServerIsAllocatableAndRemovedNotKilledOnScaleDown) {
  MusterProcess muster({"28100-28199", "28200-28399", {}});
  ASSERT_TRUE(muster.Start());
  // Stand-in for a server in a debugger elsewhere: a process Muster did not start.
  int outside = ::fork();
  if (outside == 0) {
    ::execl("/bin/sleep", "sleep", "60", nullptr);
    ::_exit(127);
  }
  std::string out, err;
  ASSERT_EQ(muster.Cli({"register", "dev-box", "--address", "192.168.7.7", "--port", "game=7777",
                        "-l", "pool=dev"},
                       &out, &err),
            0)
      << err;
  EXPECT_EQ(out, "gameserver/dev-box registered\n");
  // Again, the same: unchanged. Elsewhere: refused, as a change of where it runs.
  ASSERT_EQ(muster.Cli({"register", "dev-box", "--address", "192.168.7.7", "--port", "game=7777",
                        "-l", "pool=dev"},
                       &out, &err),
            0)
      << err;
  EXPECT_EQ(out, "gameserver/dev-box unchanged (registered before)\n");
  EXPECT_EQ(muster.Cli({"register", "dev-box", "--address", "192.168.7.8", "--port", "game=7777",
                        "-l", "pool=dev"},
                       &out, &err),
            1);
  EXPECT_NE(err.find("spec.external: where an existing game server runs cannot change"),
            std::string::npos)
      << err;
  EXPECT_EQ(
      muster.Cli({"register", "dev-box-x", "--address", "not an address!", "--port", "game=7777"},
                 &out, &err),
      1);
  EXPECT_NE(err.find("spec.external.address"), std::string::npos) << err;
  EXPECT_NE(muster.Cli({"register", "dev-box-x", "--address", "10.0.0.1", "--port", "game=77x"},
                       &out, &err),
            0);
  EXPECT_NE(err.find("--port"), std::string::npos) << err;
  ASSERT_TRUE(PollUntil([&] { return muster.InState("", "Ready").size() == 1; }, 10s));
  json gs = muster.Call("GET", "/v1/gameservers/dev-box");
  EXPECT_EQ(gs["status"]["address"], "192.168.7.7");
  EXPECT_GT(gs["status"]["sdkPorts"]["http"].get<int>(), 0) << "it can make SDK calls if it wants";
  const std::vector<std::string> alloc = {"allocate", "--selector", "pool=dev", "-o", "json"};
  auto with_session = alloc;
  with_session.insert(with_session.end(),
                      {"--session", "dev-s1", "--set-label", "match=m1", "--set-annotation",
                       "note=a=b c", "--cookie", "ck", "--player", "p1"});
  ASSERT_EQ(muster.Cli(with_session, &out, &err), 0) << err;
  EXPECT_EQ(json::parse(out)["gameServer"], "dev-box");
  EXPECT_EQ(json::parse(out)["address"], "192.168.7.7");
  EXPECT_EQ(json::parse(out)["ports"][0]["port"], 7777);
  // The CLI says when an answer is a repeat, and exits 3 when nothing is left (a retry later).
  ASSERT_EQ(muster.Cli(with_session, &out, &err), 0) << err;
  EXPECT_EQ(json::parse(out)["gameServer"], "dev-box");
  EXPECT_NE(err.find("already had this server"), std::string::npos) << err;
  EXPECT_EQ(muster.Cli(alloc, &out, &err), 3) << err;
  // What the allocation put on the server went with it, in the same commit.
  json allocated = muster.Call("GET", "/v1/gameservers/dev-box");
  EXPECT_EQ(allocated["metadata"]["labels"]["match"], "m1");
  EXPECT_EQ(allocated["metadata"]["annotations"]["note"], "a=b c");
  EXPECT_EQ(allocated["status"]["allocation"]["sessionCookie"], "ck");
  EXPECT_EQ(allocated["status"]["allocation"]["initialPlayers"], json::array({"p1"}));
  // Joining the running session, found by the label it was given; a Ready one is refused.
  EXPECT_EQ(muster.Cli({"allocate", "--state", "Ready", "-l", "match=m1"}, &out, &err), 3) << err;
  // (--priority goes through: the server has no such counter, which orders it last, but
  // it is the only one.)
  ASSERT_EQ(muster.Cli({"allocate", "--state", "Allocated", "-l", "match=m1", "--session", "dev-s2",
                        "--priority", "Counter:rooms:Descending", "-o", "json"},
                       &out, &err),
            0)
      << err;
  EXPECT_EQ(json::parse(out)["gameServer"], "dev-box");
  EXPECT_EQ(muster.Call("GET", "/v1/gameservers/dev-box")["status"]["allocation"]["joinedSessions"],
            json::array({"dev-s2"}));

  // Registered into a full fleet, it takes the place of a server Muster started; when the
  // fleet scales to 0 it is removed, and nothing is signalled.
  int status = 0;
  json hybrid = EchoFleet("hybrid", 1);
  hybrid["spec"]["template"]["metadata"]["annotations"] = {{"team", "net"}};
  muster.Call("POST", "/v1/fleets", hybrid, &status);
  ASSERT_EQ(status, 201);
  ASSERT_TRUE(PollUntil([&] { return muster.InState("hybrid", "Ready").size() == 1; }, 15s));
  muster.Call("POST", "/v1/gameservers",
              ExternalServer("dev-box-2", 7778, {{"owner", "alice"}}, "hybrid"), &status);
  ASSERT_EQ(status, 201);
  EXPECT_TRUE(PollUntil(
      [&] {
        json in_fleet = muster.Call("GET", "/v1/gameservers?fleet=hybrid")["items"];
        return in_fleet.size() == 1 && in_fleet[0]["metadata"]["name"] == "dev-box-2";
      },
      15s));
  // It stands in for one of the fleet's own: it carries the template's labels too.
  json member = muster.Call("GET", "/v1/gameservers/dev-box-2");
  EXPECT_EQ(member["metadata"]["labels"]["game"], "echo");
  EXPECT_EQ(member["metadata"]["labels"]["owner"], "alice") << "its own labels stay";
  EXPECT_EQ(member["metadata"]["labels"]["agones.dev/fleet"], "hybrid");
  EXPECT_EQ(member["metadata"]["annotations"]["team"], "net") << "and its annotations";
  auto again = muster.Raw("POST", "/v1/gameservers",
                          ExternalServer("dev-box-2", 7778, {{"owner", "alice"}}, "hybrid").dump());
  EXPECT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.headers["muster-apply"], "unchanged")
      << "registering a member again changes nothing";
  // Full, and no server Muster started is left to make room: refused, not registered and
  // then removed at once.
  auto no_room = muster.Raw("POST", "/v1/gameservers",
                            ExternalServer("dev-box-3", 7779, json::object(), "hybrid").dump());
  EXPECT_EQ(no_room.status, 409) << no_room.body;
  EXPECT_EQ(json::parse(no_room.body)["field"], "spec.fleet");
  EXPECT_NE(json::parse(no_room.body)["message"].get<std::string>().find("Scale the fleet up"),
            std::string::npos);
  muster.Call("GET", "/v1/gameservers/dev-box-3", nullptr, &status);
  EXPECT_EQ(status, 404) << "nothing was stored";
  muster.Call("PUT", "/v1/fleets/hybrid/scale", {{"replicas", 0}}, &status);
  ASSERT_EQ(status, 200);
  EXPECT_TRUE(PollUntil(
      [&] {
        muster.Call("GET", "/v1/gameservers/dev-box-2", nullptr, &status);
        return status == 404;
      },
      10s));
  EXPECT_TRUE(ProcessAlive(outside));
  muster.Call("DELETE", "/v1/gameservers/dev-box", nullptr, &status);
  EXPECT_EQ(status, 200);
  EXPECT_TRUE(PollUntil([&] { return muster.GameServers().empty(); }, 10s));
  EXPECT_TRUE(ProcessAlive(outside));
  ::kill(outside, SIGKILL);
  ::waitpid(outside, nullptr, 0);
}

}  // namespace
}  // namespace muster::testing
