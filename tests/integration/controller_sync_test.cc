// The controller's commit pipeline against a real SQLite store whose Sync is gated at
// the seam (and whose Commit can be made to fail): an allocation is answered only after
// the flush that covers it, the next batch is written while that flush is still under
// way, and a failed write fails what was staged on top of it.
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include "codec/json_codec.h"
#include "control/controller.h"
#include "sdk/server_sdk.h"
#include "store/sqlite_store.h"
#include "support/poll.h"

namespace muster::control {
namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;

// The real store, with Sync held at a gate the test opens.
class GatedStore : public store::Store {
 public:
  explicit GatedStore(store::Store& inner) : inner_(inner) {}
  core::StatusOr<store::Snapshot> Load() override { return inner_.Load(); }
  core::Status Commit(std::vector<store::Change>& changes) override {
    if (fail_next.exchange(false)) {  // as a full disk would: nothing written
      ++commits;
      return core::Status(core::Code::kInternal, "sqlite write: database or disk is full");
    }
    core::Status s = inner_.Commit(changes);
    ++commits;
    return s;
  }
  core::Status Sync() override {
    std::unique_lock lock(mu_);
    waiting = true;
    cv_.wait(lock, [this] { return open_; });
    waiting = false;
    return inner_.Sync();
  }
  void Subscribe(store::ChangeFeedHandler h) override { inner_.Subscribe(std::move(h)); }
  void SetOpen(bool open) {
    {
      std::lock_guard lock(mu_);
      open_ = open;
    }
    cv_.notify_all();
  }
  std::atomic<int> commits{0};  // attempts, failed ones included
  std::atomic<bool> waiting{false};
  std::atomic<bool> fail_next{false};

 private:
  store::Store& inner_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = true;
};

// No processes: most tests only register servers that run elsewhere. A "start" is
// refused, or, when `pretend` is set, logged (with whatever `on_start` adds to the log)
// and reported running.
class NoRuntime : public runtime::Runtime {
 public:
  core::StatusOr<runtime::ProcessInfo> Start(const runtime::LaunchSpec& spec) override {
    if (!pretend) return core::Status(core::Code::kFailedPrecondition, "no processes in this test");
    Log("start " + spec.name);
    if (on_start) std::exchange(on_start, nullptr)();
    std::lock_guard lock(mu_);
    running_.insert(spec.name);
    return runtime::ProcessInfo{1000 + static_cast<int>(running_.size()), 1};
  }
  bool Adopt(const std::string&, const runtime::ProcessInfo&) override { return false; }
  std::vector<std::string> KillStrays() override { return {}; }
  void Stop(const std::string&, std::chrono::seconds) override {}
  bool IsRunning(const std::string& name) const override {
    std::lock_guard lock(mu_);
    return running_.count(name) > 0;
  }
  void Log(const std::string& line) {
    std::lock_guard lock(mu_);
    log_.push_back(line);
  }
  std::vector<std::string> log() const {
    std::lock_guard lock(mu_);
    return log_;
  }
  std::atomic<bool> pretend{false};
  std::function<void()> on_start;  // runs once, on the owner thread, in the first start

 private:
  mutable std::mutex mu_;
  std::set<std::string> running_;
  std::vector<std::string> log_;
  void SetExitHandler(ExitHandler) override {}
  std::string ReadLogs(const std::string&, uint64_t) const override { return ""; }
};

// The real clocks, and a system time the test can change (as NTP or an operator would).
class TestClock : public core::Clock {
 public:
  core::TimeMs Now() const override { return Ms(std::chrono::system_clock::now()) + stepped; }
  core::TimeMs MonotonicMs() const override { return Ms(std::chrono::steady_clock::now()); }
  std::atomic<core::TimeMs> stepped{0};

 private:
  template <typename T>
  static core::TimeMs Ms(T t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  }
};

class ControllerSyncTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/muster-sync-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    sqlite_ = std::move(
        store::SqliteStore::Open(dir_ + "/muster.db", store::SqliteStore::SyncMode::kDeferred)
            .value());
    gated_ = std::make_unique<GatedStore>(*sqlite_);
    ControllerOptions o;
    o.node.name = "n1";
    controller_ = std::make_unique<Controller>(
        owner_, syncer_, *gated_, runtime_, clock_, [](int, core::Protocol) { return false; }, o);
    std::promise<core::Status> started;
    asio::post(owner_, [&] { started.set_value(controller_->Start(nullptr)); });
    for (auto* io : {&owner_, &syncer_}) threads_.emplace_back([io] { io->run(); });
    ASSERT_TRUE(started.get_future().get().ok());
  }

  void TearDown() override {
    gated_->SetOpen(true);
    for (auto* w : {&owner_work_, &syncer_work_}) w->reset();
    for (auto* io : {&owner_, &syncer_}) io->stop();
    for (auto& t : threads_) t.join();
    controller_.reset();
    sqlite_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Register(const std::string& name, int port) {
    nlohmann::json doc = {
        {"apiVersion", "muster.dev/v1"},
        {"kind", "GameServer"},
        {"metadata", {{"name", name}}},
        {"spec",
         {{"external",
           {{"address", "10.1.0.1"},
            {"sdk", false},
            {"ports", nlohmann::json::array({{{"name", "game"}, {"port", port}}})}}}}}};
    std::promise<bool> applied;
    controller_->ApplyGameServer(codec::DecodeGameServer(doc).value(),
                                 [&](auto r) { applied.set_value(r.ok()); });
    ASSERT_TRUE(applied.get_future().get());
  }

  std::string StateOf(const std::string& name) {
    std::promise<std::string> state;
    controller_->GetGameServer(name, [&](core::StatusOr<core::GameServer> r) {
      state.set_value(r.ok() ? core::StateName(r->status.state) : "");
    });
    return state.get_future().get();
  }

  // Runs everything the owner thread has queued so far.
  void DrainOwner() {
    std::promise<void> done;
    asio::post(owner_, [&] { done.set_value(); });
    done.get_future().get();
  }

  // Allocates for `session`; its answer lands in `answers` (the server, or "error: ...").
  // `state` Allocated joins a running session.
  void Allocate(const std::string& session, std::map<std::string, std::string>& answers,
                core::GameServerState state = core::GameServerState::kReady) {
    core::AllocationRequest req;
    req.session_id = session;
    if (state != core::GameServerState::kReady) req.selectors = {core::GameServerSelector{}};
    if (!req.selectors.empty()) req.selectors[0].state = state;
    controller_->Allocate(req, [&, session](core::StatusOr<AllocationResult> r) {
      std::lock_guard lock(answers_mu_);
      answers[session] = r.ok() ? r->server.meta.name : "error: " + r.status().message();
    });
  }
  size_t Count(const std::map<std::string, std::string>& answers) {
    std::lock_guard lock(answers_mu_);
    return answers.size();
  }

  std::string dir_;
  asio::io_context owner_{1}, syncer_{1};
  asio::executor_work_guard<asio::io_context::executor_type> owner_work_ =
      asio::make_work_guard(owner_);
  asio::executor_work_guard<asio::io_context::executor_type> syncer_work_ =
      asio::make_work_guard(syncer_);
  std::unique_ptr<store::SqliteStore> sqlite_;
  std::unique_ptr<GatedStore> gated_;
  NoRuntime runtime_;
  TestClock clock_;
  std::unique_ptr<Controller> controller_;
  std::vector<std::thread> threads_;
  std::mutex answers_mu_;
};

TEST_F(ControllerSyncTest, AnswersWaitForTheFlushAndTheNextBatchIsWrittenMeanwhile) {
  Register("a", 7001);
  Register("b", 7002);
  ASSERT_TRUE(
      testing::PollUntil([&] { return StateOf("a") == "Ready" && StateOf("b") == "Ready"; }, 10s));

  gated_->SetOpen(false);
  std::atomic<int> answered{0};
  std::vector<std::string> order;
  std::mutex order_mu;
  auto allocate = [&](const std::string& session) {
    core::AllocationRequest req;
    req.session_id = session;
    controller_->Allocate(req, [&, session](core::StatusOr<AllocationResult> r) {
      ASSERT_TRUE(r.ok()) << r.status().message();
      std::lock_guard lock(order_mu);
      order.push_back(session);
      ++answered;
    });
  };
  const int before = gated_->commits;
  allocate("s-1");
  // The first batch is written and its flush is held at the gate.
  ASSERT_TRUE(testing::PollUntil([&] { return gated_->commits > before && gated_->waiting; }, 10s));
  DrainOwner();  // the owner thread is idle, and nothing is answered yet
  EXPECT_EQ(answered, 0) << "answered before its flush";

  // A second allocation is written while the first flush is still under way.
  const int written = gated_->commits;
  allocate("s-2");
  ASSERT_TRUE(testing::PollUntil([&] { return gated_->commits > written; }, 10s))
      << "the next batch waited for the flush";
  DrainOwner();
  EXPECT_EQ(answered, 0);

  gated_->SetOpen(true);
  ASSERT_TRUE(testing::PollUntil([&] { return answered == 2; }, 10s));
  EXPECT_EQ(order, (std::vector<std::string>{"s-1", "s-2"})) << "batches complete in order";
  EXPECT_EQ(StateOf("a"), "Allocated");
  EXPECT_EQ(StateOf("b"), "Allocated");
}

// A retry of a session whose first allocation is still being flushed waits for it, and is
// decided on the server as it is then: if that server shut down meanwhile, the first
// request gets its 409 and the retry another server, not the one going away.
TEST_F(ControllerSyncTest, ARetryDuringTheFlushIsDecidedOnceTheSessionIsDurable) {
  Register("a", 7001);
  Register("b", 7002);
  ASSERT_TRUE(
      testing::PollUntil([&] { return StateOf("a") == "Ready" && StateOf("b") == "Ready"; }, 10s));
  std::mutex mu;
  std::vector<std::string> first, retry;
  auto allocate = [&](std::vector<std::string>& into) {
    core::AllocationRequest req;
    req.session_id = "s-1";
    controller_->Allocate(req, [&](core::StatusOr<AllocationResult> r) {
      std::lock_guard lock(mu);
      into.push_back(r.ok() ? r->server.meta.name : "error: " + r.status().message());
    });
  };
  auto count = [&] {
    std::lock_guard lock(mu);
    return first.size() + retry.size();
  };
  gated_->SetOpen(false);
  allocate(first);  // takes a, the first by name
  ASSERT_TRUE(testing::PollUntil([&] { return gated_->waiting.load(); }, 10s));
  allocate(retry);  // the matchmaker timed out and tries again
  controller_->SdkShutdown("a", [](auto) {});
  DrainOwner();
  EXPECT_EQ(count(), 0u);
  gated_->SetOpen(true);
  ASSERT_TRUE(testing::PollUntil([&] { return count() == 2; }, 10s));
  std::lock_guard lock(mu);
  EXPECT_EQ(first, std::vector<std::string>{"error: game server a shut down as it was being "
                                            "allocated; retry"});
  EXPECT_EQ(retry, std::vector<std::string>{"b"});
}

// A request that changes nothing is still answered only once what it rests on is
// durable: a repeat of a write that is being flushed waits for that flush.
// Joins of one session staged faster than they become durable: more than a server
// remembers (core::kJoinsRemembered) wait for one flush. The oldest ids are forgotten by
// the time it ends, but the session they joined still runs there: each join stands.
TEST_F(ControllerSyncTest, JoinsBeyondWhatAServerRemembersWaitingForOneFlushAllStand) {
  Register("a", 7001);
  ASSERT_TRUE(testing::PollUntil([&] { return StateOf("a") == "Ready"; }, 10s));
  std::map<std::string, std::string> answers;
  Allocate("match", answers);
  ASSERT_TRUE(testing::PollUntil([&] { return Count(answers) == 1; }, 10s));
  ASSERT_EQ(answers["match"], "a");

  gated_->SetOpen(false);
  const size_t joins = core::kJoinsRemembered + 2;
  for (size_t i = 0; i < joins; ++i)
    Allocate("join-" + std::to_string(i), answers, core::GameServerState::kAllocated);
  DrainOwner();
  EXPECT_EQ(Count(answers), 1u) << "a join answered before its flush";
  gated_->SetOpen(true);
  ASSERT_TRUE(testing::PollUntil([&] { return Count(answers) == 1 + joins; }, 10s));
  std::lock_guard lock(answers_mu_);
  for (size_t i = 0; i < joins; ++i)
    EXPECT_EQ(answers["join-" + std::to_string(i)], "a") << "join " << i;
}

TEST_F(ControllerSyncTest, ARepeatThatChangesNothingWaitsForTheWriteItRepeats) {
  std::atomic<int> answered{0};
  auto plan = [&] {
    controller_->SetNodeMaintenance("n1", 1795000000000, [&](core::StatusOr<core::Node> r) {
      EXPECT_TRUE(r.ok()) << r.status().message();
      EXPECT_EQ(r->maintenance_ms, 1795000000000);
      ++answered;
    });
  };
  gated_->SetOpen(false);
  plan();
  ASSERT_TRUE(testing::PollUntil([&] { return gated_->waiting.load(); }, 10s));
  plan();  // the same again: nothing to write
  DrainOwner();
  EXPECT_EQ(answered, 0) << "the repeat was answered before the write it repeats was durable";
  gated_->SetOpen(true);
  ASSERT_TRUE(testing::PollUntil([&] { return answered == 2; }, 10s));
  plan();  // with nothing in flight it is answered at once
  ASSERT_TRUE(testing::PollUntil([&] { return answered == 3; }, 10s));
}

// A revocation whose write fails leaves the token as the store has it: still valid, as
// it would be after a restart, not refused until then; also when a new token of the same
// name was created in the same failed batch.
TEST_F(ControllerSyncTest, ARevocationThatFailedToWriteLeavesTheTokenValid) {
  core::ApiToken token;
  token.name = "ci";
  token.scope = "allocate";
  token.sha256_hex = std::string(64, 'a');
  std::promise<bool> created;
  controller_->CreateToken(token, [&](auto r) { created.set_value(r.ok()); });
  ASSERT_TRUE(created.get_future().get());
  // A rotation: revoke, and create a new token of the same name, in one batch that fails.
  core::ApiToken rotated = token;
  rotated.sha256_hex = std::string(64, 'b');
  gated_->fail_next = true;
  std::promise<std::string> revoked, recreated;
  asio::post(owner_, [&] {  // both queued before the batch is written
    controller_->RevokeToken("ci", [&](core::StatusOr<core::ApiToken> r) {
      revoked.set_value(r.ok() ? "revoked" : r.status().message());
    });
    controller_->CreateToken(rotated, [&](core::StatusOr<core::ApiToken> r) {
      recreated.set_value(r.ok() ? "created" : r.status().message());
    });
  });
  EXPECT_EQ(revoked.get_future().get(), "sqlite write: database or disk is full");
  EXPECT_EQ(recreated.get_future().get(), "sqlite write: database or disk is full");
  std::promise<std::vector<core::ApiToken>> tokens;
  controller_->ListTokens(
      [&](core::StatusOr<std::vector<core::ApiToken>> r) { tokens.set_value(*r); });
  const auto listed = tokens.get_future().get();
  ASSERT_EQ(listed.size(), 1u) << "the stored token is listed (and can be revoked)";
  EXPECT_EQ(listed[0].sha256_hex, token.sha256_hex) << "the old one: the new was never stored";
}

// A server that shuts itself down while its allocation is being flushed ends that
// session: the allocation is answered with an error, not with the dying server, and the
// retry with the same sessionId gets another server. A session whose server fails after
// it was answered has ended too: a repeat gets a fresh server, not the failed one.
TEST_F(ControllerSyncTest, ASessionEndsWithItsServerAndItsIdThenAllocatesAfresh) {
  Register("a", 7001);
  ASSERT_TRUE(testing::PollUntil([&] { return StateOf("a") == "Ready"; }, 10s));
  std::map<std::string, std::string> answers;
  auto answer = [&](const std::string& session) {
    std::lock_guard lock(answers_mu_);
    auto it = answers.find(session);
    return it == answers.end() ? std::string() : it->second;
  };

  gated_->SetOpen(false);
  Allocate("s-1", answers);
  ASSERT_TRUE(testing::PollUntil([&] { return gated_->waiting.load(); }, 10s));
  std::promise<std::string> shut;
  controller_->SdkShutdown("a", [&](core::StatusOr<core::GameServer> r) {
    shut.set_value(r.ok() ? std::string(core::StateName(r->status.state)) : r.status().message());
  });
  DrainOwner();
  EXPECT_EQ(Count(answers), 0u) << "answered before its flush";
  gated_->SetOpen(true);
  ASSERT_TRUE(testing::PollUntil([&] { return Count(answers) == 1; }, 10s));
  // Which it says depends on whether a's reconcile (a process-less server that shut down
  // is removed at once) ran before the allocation's flush came back: either is the truth.
  const std::string said = answer("s-1");
  EXPECT_TRUE(said == "error: game server a shut down as it was being allocated; retry" ||
              said == "error: game server a was deleted as it was being allocated; retry")
      << said;
  EXPECT_EQ(shut.get_future().get(), "Shutdown");

  Register("b", 7002);
  ASSERT_TRUE(testing::PollUntil([&] { return StateOf("b") == "Ready"; }, 10s));
  {
    std::lock_guard lock(answers_mu_);
    answers.erase("s-1");
  }
  Allocate("s-1", answers);
  ASSERT_TRUE(testing::PollUntil([&] { return Count(answers) == 1; }, 10s));
  EXPECT_EQ(answer("s-1"), "b") << "the retry of the ended session";

  std::promise<bool> failed;
  controller_->SdkUnhealthy("b", "crashed",
                            [&](core::StatusOr<core::GameServer> r) { failed.set_value(r.ok()); });
  ASSERT_TRUE(failed.get_future().get());
  EXPECT_EQ(StateOf("b"), "Unhealthy") << "a standalone server stays, Unhealthy";
  Register("c", 7003);
  ASSERT_TRUE(testing::PollUntil([&] { return StateOf("c") == "Ready"; }, 10s));
  {
    std::lock_guard lock(answers_mu_);
    answers.clear();
  }
  Allocate("s-1", answers);
  ASSERT_TRUE(testing::PollUntil([&] { return Count(answers) == 1; }, 10s));
  EXPECT_EQ(answer("s-1"), "c") << "not the failed server it was on";
}

// A write that fails fails its batch and every change staged on top of it, and the
// World is reloaded from the store; batches written before it still complete, and
// the next request is written as usual.
TEST_F(ControllerSyncTest, AFailedWriteFailsWhatBuiltOnItAndTheWorldIsReloaded) {
  for (auto [name, port] : {std::pair{"a", 7001}, {"b", 7002}, {"c", 7003}}) Register(name, port);
  ASSERT_TRUE(testing::PollUntil(
      [&] { return StateOf("a") == "Ready" && StateOf("b") == "Ready" && StateOf("c") == "Ready"; },
      10s));

  auto ping_slot = [&](const std::string& name) {
    std::promise<PingSlot> slot;
    asio::post(owner_, [&] { slot.set_value(controller_->PingSlotOf(name)); });
    return slot.get_future().get();
  };
  const PingSlot slot_before = ping_slot("a");

  gated_->SetOpen(false);
  std::map<std::string, std::string> answers;
  int attempts = gated_->commits;
  Allocate("s-0", answers);  // written; its flush waits at the gate
  ASSERT_TRUE(
      testing::PollUntil([&] { return gated_->commits > attempts && gated_->waiting; }, 10s));

  gated_->fail_next = true;
  attempts = gated_->commits;
  Allocate("s-1", answers);  // its write fails
  ASSERT_TRUE(testing::PollUntil([&] { return gated_->commits > attempts; }, 10s));
  attempts = gated_->commits;
  Allocate("s-2", answers);  // staged on top of the failed batch: not written
  DrainOwner();              // the allocation, which would post a flush
  DrainOwner();              // and that flush
  EXPECT_EQ(gated_->commits, attempts) << "a batch was written after a failed one";
  EXPECT_EQ(Count(answers), 0u);

  gated_->SetOpen(true);
  ASSERT_TRUE(testing::PollUntil([&] { return Count(answers) == 3; }, 10s));
  const std::string first = answers["s-0"];
  ASSERT_TRUE(first == "a" || first == "b" || first == "c") << first;
  EXPECT_EQ(answers["s-1"], "error: sqlite write: database or disk is full");
  EXPECT_EQ(answers["s-2"], "error: sqlite write: database or disk is full");
  for (const char* name : {"a", "b", "c"})
    EXPECT_EQ(StateOf(name), name == first ? "Allocated" : "Ready") << name;
  EXPECT_EQ(ping_slot("a"), slot_before)
      << "a reload keeps the ping slots the SDK endpoints write to (else every server "
         "checked for health would miss its pings and be marked Unhealthy)";

  Allocate("s-3", answers);
  ASSERT_TRUE(testing::PollUntil([&] { return Count(answers) == 4; }, 10s));
  EXPECT_NE(answers["s-3"].rfind("error", 0), 0u) << answers["s-3"];
  EXPECT_NE(answers["s-3"], first);
  EXPECT_EQ(StateOf(answers["s-3"]), "Allocated");
}

TEST_F(ControllerSyncTest, ANodeWriteThatFailedIsForgottenSoTheNextOneIsNotStale) {
  auto set_maintenance = [&](core::TimeMs at) {
    std::promise<core::Status> done;
    controller_->SetNodeMaintenance("n1", at, [&](core::StatusOr<core::Node> r) {
      done.set_value(r.ok() ? core::OkStatus() : r.status());
    });
    return done.get_future().get();
  };
  auto planned = [&] {
    std::promise<core::TimeMs> at;
    controller_->GetNode(
        "n1", [&](core::StatusOr<core::Node> r) { at.set_value(r.ok() ? r->maintenance_ms : -1); });
    return at.get_future().get();
  };
  gated_->fail_next = true;
  EXPECT_FALSE(set_maintenance(1'900'000'000'000).ok());
  EXPECT_EQ(planned(), 0) << "what failed to be stored is not planned";
  core::Status again = set_maintenance(1'900'000'060'000);
  EXPECT_TRUE(again.ok()) << again.message();
  EXPECT_EQ(planned(), 1'900'000'060'000);
}

// The system's time jumps an hour ahead while servers run. Health is timed on the
// monotonic clock, pings included, so no server fails for the jump: one whose deadline is
// far (1 s of initial delay, then 30 s) stays as it is, while one that pinged through its
// SDK and then went quiet (a window of 1 s) turns Unhealthy on time. (With the system's
// time for deadlines, both would fail at once; with it for pings only, the quiet one
// never would.)
TEST_F(ControllerSyncTest, AJumpOfTheSystemsTimeFailsNoServersHealth) {
  runtime_.pretend = true;
  auto apply = [&](const std::string& name, int period_s) {
    nlohmann::json doc = {
        {"apiVersion", "muster.dev/v1"},
        {"kind", "GameServer"},
        {"metadata", {{"name", name}}},
        {"spec",
         {{"ports", nlohmann::json::array({{{"name", "game"}}})},
          {"health",
           {{"initialDelaySeconds", 1}, {"periodSeconds", period_s}, {"failureThreshold", 1}}},
          {"template",
           {{"spec",
             {{"containers",
               nlohmann::json::array({{{"name", "c"}, {"command", {"/bin/true"}}}})}}}}}}}};
    std::promise<bool> applied;
    controller_->ApplyGameServer(codec::DecodeGameServer(doc).value(),
                                 [&](auto r) { applied.set_value(r.ok()); });
    ASSERT_TRUE(applied.get_future().get());
  };
  apply("patient", 30);
  apply("pinged", 1);
  std::promise<PingSlot> slot;  // as the SDK endpoints get it: on the owner thread
  asio::post(owner_, [&] { slot.set_value(controller_->PingSlotOf("pinged")); });
  const sdk::ServerSdk pinged(*controller_, "pinged", slot.get_future().get());
  auto ping = [&] { pinged.Health([](core::StatusOr<bool>) {}); };
  ASSERT_TRUE(testing::PollUntil(
      [&] {
        ping();
        return StateOf("patient") == "Starting" && StateOf("pinged") == "Starting";
      },
      10s));
  clock_.stepped = 3'600'000;
  ping();  // its last
  ASSERT_TRUE(testing::PollUntil([&] { return StateOf("pinged") == "Unhealthy"; }, 10s))
      << "its pings stopped: it fails on time, jump or not";
  // Sweeps come every 500 ms: four more pass meanwhile, and each would fail it.
  EXPECT_FALSE(testing::PollUntil([&] { return StateOf("patient") != "Starting"; }, 2s))
      << "patient is " << StateOf("patient") << ": failed for a jump of the system's time";
}

// The system's time jumps an hour ahead, then two hours back, during a reservation of
// 4 s: the reservation neither ends at once nor lasts an hour longer. It ends when its
// 4 s have passed, as the monotonic clock counts them.
TEST_F(ControllerSyncTest, AReservationLastsItsSecondsWhateverTheSystemsTimeDoes) {
  Register("a", 7001);
  ASSERT_TRUE(testing::PollUntil([&] { return StateOf("a") == "Ready"; }, 10s));
  const auto since = std::chrono::steady_clock::now();  // at most when the 4 s begin
  std::promise<bool> reserved;
  controller_->SdkReserve("a", 4, [&](auto r) { reserved.set_value(r.ok()); });
  ASSERT_TRUE(reserved.get_future().get());
  clock_.stepped = 3'600'000;
  // Sweeps come every 500 ms: two or more pass in each second, and each would end it.
  EXPECT_FALSE(testing::PollUntil([&] { return StateOf("a") != "Reserved"; }, 1s))
      << "ended early, by a jump ahead";
  clock_.stepped = -3'600'000;
  ASSERT_TRUE(testing::PollUntil([&] { return StateOf("a") == "Ready"; }, 10s))
      << "held late, by a jump back";
  EXPECT_GE(std::chrono::steady_clock::now() - since, 4s) << "ended before its 4 s";
}

// A scale-up starts one process a pass and then lets the owner thread run what queued
// up meanwhile (allocations, under load), instead of starting a whole fleet in one go.
TEST_F(ControllerSyncTest, AScaleUpLetsOtherWorkRunBetweenItsStarts) {
  runtime_.pretend = true;
  runtime_.on_start = [this] { asio::post(owner_, [this] { runtime_.Log("other work"); }); };
  nlohmann::json doc = {
      {"apiVersion", "muster.dev/v1"},
      {"kind", "Fleet"},
      {"metadata", {{"name", "f"}}},
      {"spec",
       {{"replicas", 5},
        {"template",
         {{"spec",
           {{"ports", nlohmann::json::array({{{"name", "game"}}})},
            {"template",
             {{"spec",
               {{"containers",
                 nlohmann::json::array({{{"name", "c"}, {"command", {"/bin/true"}}}})}}}}}}}}}}}};
  std::promise<bool> applied;
  controller_->ApplyFleet(codec::DecodeFleet(doc).value(),
                          [&](auto r) { applied.set_value(r.ok()); });
  ASSERT_TRUE(applied.get_future().get());
  ASSERT_TRUE(testing::PollUntil([&] { return runtime_.log().size() == 6; }, 10s));
  const auto log = runtime_.log();
  EXPECT_EQ(log[0].rfind("start ", 0), 0u);
  EXPECT_EQ(log[1], "other work") << "queued during the first start, it runs before the second";
  EXPECT_EQ(std::count(log.begin(), log.end(), "other work"), 1);
}

}  // namespace
}  // namespace muster::control
