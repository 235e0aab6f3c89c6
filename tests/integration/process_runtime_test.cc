// The process runtime with real child processes: exits noticed through pidfds,
// SIGTERM then SIGKILL, re-adoption by a second runtime, exec failures, log cap, and
// the CPU policy game servers start at.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <thread>
#include <tuple>

#include <gtest/gtest.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "runtime/host.h"
#include "runtime/log_file.h"
#include "runtime/proc.h"
#include "runtime/process_runtime.h"
#include "support/muster_process.h"

namespace muster::runtime {
namespace {
using namespace std::chrono_literals;

class ProcessRuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/muster-rt-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  void TearDown() override {
    for (int pid : started_) ::kill(-pid, SIGKILL);
    std::filesystem::remove_all(dir_);
  }

  std::unique_ptr<ProcessRuntime> Make(boost::asio::io_context& io, std::string instance = "") {
    ProcessRuntime::Options o;
    o.instance = instance.empty() ? dir_ : instance;
    o.log_dir = dir_ + "/logs";
    o.log_max_bytes = 1000;
    o.log_check_interval = 20ms;
    return std::make_unique<ProcessRuntime>(io, o);
  }

  LaunchSpec Shell(const std::string& name, const std::string& script) {
    LaunchSpec spec;
    spec.name = name;
    spec.process.command = {"/bin/sh"};
    spec.process.args = {"-c", script};
    spec.process.env = {{"FROM_SPEC", "spec-value", true}};
    return spec;
  }

  // Runs the io_context until `done` or a deadline; the runtime's events fire in it.
  static bool RunUntil(boost::asio::io_context& io, const std::function<bool()>& done,
                       std::chrono::milliseconds deadline = 10s) {
    auto end = std::chrono::steady_clock::now() + deadline;
    while (!done() && std::chrono::steady_clock::now() < end) {
      io.restart();
      io.run_for(20ms);
    }
    return done();
  }

  std::string dir_;
  std::vector<int> started_;
};

TEST_F(ProcessRuntimeTest, ExitIsReportedWithItsCodeAndLogsAreCaptured) {
  boost::asio::io_context io;
  auto rt = Make(io);
  std::vector<ExitEvent> exits;
  rt->SetExitHandler([&](const ExitEvent& e) { exits.push_back(e); });
  auto info =
      rt->Start(Shell("gs-a", "echo out $MUSTER_GAMESERVER_NAME $FROM_SPEC; echo err >&2; exit 3"));
  ASSERT_TRUE(info.ok()) << info.status().message();
  started_.push_back(info->pid);
  EXPECT_GT(info->start_ticks, 0u);
  ASSERT_TRUE(RunUntil(io, [&] { return !exits.empty(); }));
  EXPECT_EQ(exits[0].name, "gs-a");
  EXPECT_TRUE(exits[0].status_known);
  EXPECT_EQ(exits[0].exit_code, 3);
  EXPECT_FALSE(rt->IsRunning("gs-a"));
  std::string logs = rt->ReadLogs("gs-a", 1 << 20);
  EXPECT_NE(logs.find("out gs-a spec-value"), std::string::npos) << logs;
  EXPECT_NE(logs.find("err"), std::string::npos) << logs;
}

TEST_F(ProcessRuntimeTest, StopSendsTermThenKillsAfterGrace) {
  boost::asio::io_context io;
  auto rt = Make(io);
  std::vector<ExitEvent> exits;
  rt->SetExitHandler([&](const ExitEvent& e) { exits.push_back(e); });
  auto polite = rt->Start(Shell("polite", "trap 'exit 0' TERM; tail -f /dev/null & wait"));
  auto stubborn = rt->Start(Shell("stubborn", "trap '' TERM; tail -f /dev/null & wait"));
  ASSERT_TRUE(polite.ok() && stubborn.ok());
  started_ = {polite->pid, stubborn->pid};
  // The traps are set before the shells start their child: poll until each has one.
  ASSERT_TRUE(RunUntil(io, [&] {
    return std::filesystem::exists("/proc/" + std::to_string(polite->pid)) &&
           std::ifstream("/proc/" + std::to_string(polite->pid) + "/task/" +
                         std::to_string(polite->pid) + "/children")
                   .peek() != EOF &&
           std::ifstream("/proc/" + std::to_string(stubborn->pid) + "/task/" +
                         std::to_string(stubborn->pid) + "/children")
                   .peek() != EOF;
  }));
  rt->Stop("polite", 30s);
  rt->Stop("stubborn", 1s);
  rt->Stop("stubborn", 1s);  // idempotent
  ASSERT_TRUE(RunUntil(io, [&] { return exits.size() == 2; }));
  std::map<std::string, ExitEvent> by_name;
  for (const auto& e : exits) by_name[e.name] = e;
  EXPECT_EQ(by_name["polite"].signal, 0);
  EXPECT_EQ(by_name["polite"].exit_code, 0);
  EXPECT_EQ(by_name["stubborn"].signal, SIGKILL);
}

TEST_F(ProcessRuntimeTest, ASecondRuntimeReadoptsAndStillNoticesTheExit) {
  int pid = 0;
  uint64_t ticks = 0;
  {
    boost::asio::io_context io;
    auto rt = Make(io);
    auto info = rt->Start(Shell("long", "exec tail -f /dev/null"));
    ASSERT_TRUE(info.ok());
    pid = info->pid;
    ticks = info->start_ticks;
    started_.push_back(pid);
  }  // the first runtime goes away; the process must keep running
  ASSERT_EQ(ReadStartTicks(pid), ticks);
  boost::asio::io_context io;
  auto rt = Make(io);
  std::vector<ExitEvent> exits;
  rt->SetExitHandler([&](const ExitEvent& e) { exits.push_back(e); });
  EXPECT_FALSE(rt->Adopt("long", {pid, ticks + 1}))
      << "a different start time is a different process";
  ASSERT_TRUE(rt->Adopt("long", {pid, ticks}));
  EXPECT_TRUE(rt->IsRunning("long"));
  ::kill(pid, SIGKILL);
  ASSERT_TRUE(RunUntil(io, [&] { return !exits.empty(); }));
  EXPECT_EQ(exits[0].name, "long");
  EXPECT_FALSE(rt->IsRunning("long"));
}

// A Muster that crashed between a start and the write of its pid leaves a process nobody
// recorded. The next runtime of the same instance kills it and its process group, and so
// what is left of a server whose process ended while no Muster ran (its children, their
// group's leader gone). It leaves alone the processes it adopted, their own children, and
// other instances'.
TEST_F(ProcessRuntimeTest, AProcessNoOneRecordedIsKilledByTheNextRuntimeOfItsInstance) {
  std::map<std::string, int> pid;
  std::map<std::string, uint64_t> ticks;
  {
    boost::asio::io_context io;
    auto rt = Make(io);
    auto other = Make(io, dir_ + "-elsewhere");
    // Children in each one's process group. Those started by `env -i` have an empty
    // environment: only the kill of their group can find them.
    for (auto [name, runtime, script] :
         {std::tuple{"recorded", rt.get(), "tail -f /dev/null & wait"},
          std::tuple{"lost", rt.get(), "env -i tail -f /dev/null & wait"},
          std::tuple{"foreign", other.get(), "tail -f /dev/null & wait"},
          std::tuple{"ended", rt.get(), "tail -f /dev/null & env -i tail -f /dev/null & exit 0"}}) {
      auto info = runtime->Start(Shell(name, script));
      ASSERT_TRUE(info.ok()) << info.status().message();
      pid[name] = info->pid;
      ticks[name] = info->start_ticks;
      started_.push_back(info->pid);
    }
  }  // the runtimes go away, as a crashed Muster does; their processes keep running
  auto group_of = [](int leader) {  // the other members of its process group
    std::vector<int> out;
    for (int p : ListPids())
      if (p != leader && ::getpgid(p) == leader) out.push_back(p);
    return out;
  };
  auto runs_tail = [](int p) {  // done exec'ing: mid-exec, environ can read as empty
    std::string comm;
    std::ifstream("/proc/" + std::to_string(p) + "/comm") >> comm;
    return comm == "tail";
  };
  auto env_of = [](int p) {
    return ReadStartEnv(p).value_or(std::map<std::string, std::string>{});
  };
  boost::asio::io_context io;
  ASSERT_TRUE(RunUntil(io, [&] {
    int code, sig;
    ReapChild(pid["ended"], &code, &sig);  // as init would: its group's leader is gone
    const auto lost = group_of(pid["lost"]), ended = group_of(pid["ended"]);
    return group_of(pid["recorded"]).size() == 1 && lost.size() == 1 && env_of(lost[0]).empty() &&
           runs_tail(lost[0]) && ended.size() == 2 && runs_tail(ended[0]) && runs_tail(ended[1]) &&
           !ReadStartTicks(pid["ended"], /*allow_zombie=*/true);
  }));
  const int lost_child = group_of(pid["lost"])[0];
  const int recorded_child = group_of(pid["recorded"])[0];
  const std::vector<int> ended_children = group_of(pid["ended"]);
  const int ended_tagged =
      env_of(ended_children[0]).empty() ? ended_children[1] : ended_children[0];

  auto rt = Make(io);
  ASSERT_TRUE(rt->Adopt("recorded", {pid["recorded"], ticks["recorded"]}));
  std::vector<std::string> killed = rt->KillStrays();
  std::sort(killed.begin(), killed.end());
  const std::string why = ": this instance started it, and no server it runs accounts for it";
  std::vector<std::string> expected = {
      "killed process " + std::to_string(pid["lost"]) + " of game server lost" + why,
      "killed process " + std::to_string(ended_tagged) + " of game server ended" + why};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(killed, expected);
  // Our own children until reaped: gone means a zombie, which ReadStartTicks does not count.
  ASSERT_TRUE(RunUntil(io, [&] {
    int code, sig;
    ReapChild(pid["lost"], &code, &sig);
    return !ReadStartTicks(pid["lost"]) && !ReadStartTicks(lost_child) &&
           !ReadStartTicks(ended_children[0]) && !ReadStartTicks(ended_children[1]);
  })) << "the strays and the untagged members of their process groups are killed";
  EXPECT_TRUE(ReadStartTicks(pid["recorded"]).has_value()) << "adopted: left running";
  EXPECT_TRUE(ReadStartTicks(recorded_child).has_value()) << "an adopted server's own child";
  EXPECT_TRUE(ReadStartTicks(pid["foreign"]).has_value()) << "another instance's";
  EXPECT_TRUE(rt->KillStrays().empty()) << "nothing left to find";
}

TEST_F(ProcessRuntimeTest, ExecFailuresAreErrorsWithTheReason) {
  boost::asio::io_context io;
  auto rt = Make(io);
  LaunchSpec spec;
  spec.name = "missing";
  spec.process.command = {"/nonexistent/bin"};
  auto r = rt->Start(spec);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("No such file"), std::string::npos) << r.status().message();
  spec.process.command = {"no-such-command-anywhere"};
  r = rt->Start(spec);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("not found"), std::string::npos) << r.status().message();
  spec.process.command = {"/etc/hostname"};  // not executable
  EXPECT_FALSE(rt->Start(spec).ok());
}

TEST_F(ProcessRuntimeTest, LogFilesAreCapped) {
  boost::asio::io_context io;
  auto rt = Make(io);  // cap 1000 bytes, checked every 20 ms
  // The test drives the game server's output: it echoes every line written to a FIFO.
  const std::string fifo = dir_ + "/lines";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  int feed =
      ::open(fifo.c_str(), O_RDWR | O_CLOEXEC);  // RDWR: opening does not wait for the reader
  ASSERT_GE(feed, 0);
  auto info =
      rt->Start(Shell("chatty", "exec 3<>" + fifo + "; while read -r l <&3; do echo \"$l\"; done"));
  ASSERT_TRUE(info.ok());
  started_.push_back(info->pid);
  auto say = [&](const std::string& tag, int lines) {
    std::string text;
    for (int i = 0; i < lines; ++i)
      text += tag + "-" + std::to_string(i) + "-xxxxxxxxxxxxxxxxxxxxxxxxxx\n";
    ASSERT_EQ(::write(feed, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  };
  const std::string path = rt->LogPath("chatty");
  say("first", 50);  // ~2,000 bytes: over the cap
  ASSERT_TRUE(RunUntil(io, [&] { return std::filesystem::exists(path + ".1"); }));
  ASSERT_TRUE(RunUntil(io, [&] { return std::filesystem::file_size(path) == 0; })) << "truncated";
  EXPECT_LE(std::filesystem::file_size(path + ".1"), 4000u);
  EXPECT_NE(ReadLogTail(path + ".1", 4000).find("first-49-"), std::string::npos);
  // The writer keeps its descriptor: its next lines land in the truncated file.
  say("second", 3);
  ASSERT_TRUE(
      RunUntil(io, [&] { return ReadLogTail(path, 4000).find("second-2-") != std::string::npos; }));
  std::ifstream live(path);
  std::string first_line;
  std::getline(live, first_line);
  EXPECT_EQ(first_line.rfind("second-0-", 0), 0u)
      << "the live file starts at offset 0 after the truncate";
  ::close(feed);
  rt->Stop("chatty", 1s);
}

// Muster's threads may run under SCHED_BATCH (`serve --cpu-policy`); a game server it
// starts must not inherit that.
TEST_F(ProcessRuntimeTest, GameServersStartAtTheKernelsDefaultCpuPolicyWhateverMusterRunsAt) {
  ASSERT_TRUE(SetThreadCpuPolicy(CpuPolicy::kBatch).ok());
  ASSERT_EQ(::sched_getscheduler(0), SCHED_BATCH);
  boost::asio::io_context io;
  auto rt = Make(io);
  auto info = rt->Start(Shell("policy", "exec tail -f /dev/null"));
  ASSERT_TRUE(SetThreadCpuPolicy(CpuPolicy::kNormal).ok());  // the other tests run at normal
  ASSERT_TRUE(info.ok()) << info.status().message();
  started_.push_back(info->pid);
  EXPECT_EQ(::sched_getscheduler(info->pid), SCHED_OTHER);
  rt->Stop("policy", 1s);
}

TEST(Host, ACpuPolicyHoldsForTheThreadAndTheThreadsItStartsAfterwards) {
  int before = -1, inherited = -1, after = -1;
  std::thread([&] {
    before = ::sched_getscheduler(0);
    ASSERT_TRUE(SetThreadCpuPolicy(CpuPolicy::kBatch).ok());
    std::thread([&] { inherited = ::sched_getscheduler(0); }).join();
    ASSERT_TRUE(SetThreadCpuPolicy(CpuPolicy::kNormal).ok());
    after = ::sched_getscheduler(0);
  }).join();
  EXPECT_EQ(before, SCHED_OTHER);
  EXPECT_EQ(inherited, SCHED_BATCH);
  EXPECT_EQ(after, SCHED_OTHER);
  EXPECT_EQ(::sched_getscheduler(0), SCHED_OTHER) << "only the calling thread changes";
}

TEST(Host, AThreadWhoseHandlerThrowsStopsTheProcessSayingWhyAndWhere) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");  // the child re-runs the test alone
  auto throws_on_a_thread = [] {
    spdlog::set_default_logger(spdlog::stderr_color_st("death"));  // as serve logs: stderr
    boost::asio::io_context io;
    boost::asio::post(io, [] { throw std::out_of_range("no such server: eu-7"); });
    std::thread([&] { RunLoop(io, "muster-owner"); }).join();
  };
  EXPECT_DEATH(throws_on_a_thread(),
               "muster-owner: unexpected error: no such server: eu-7; stopping: the next start "
               "recovers what reached the disk");
}

TEST(Host, CpuPoliciesAreNamedAsTheFlagsSpellThem) {
  EXPECT_EQ(ParseCpuPolicy("batch"), CpuPolicy::kBatch);
  EXPECT_EQ(ParseCpuPolicy("normal"), CpuPolicy::kNormal);
  EXPECT_EQ(ParseCpuPolicy("Batch"), std::nullopt);
  EXPECT_EQ(ParseCpuPolicy(""), std::nullopt);
}

TEST(Host, IdleCpusPollWhileTheRequestIsHeldAndSleepAgainOnceItIsClosed) {
  const std::optional<int> before = muster::testing::CpuWakeLatencyUs();
  if (!before) GTEST_SKIP() << "/dev/cpu_dma_latency cannot be read here (it needs root)";
  ASSERT_NE(*before, 0) << "something else already keeps this machine's CPUs polling";
  auto fd = KeepIdleCpusPolling();
  ASSERT_TRUE(fd.ok()) << fd.status().message();
  EXPECT_EQ(muster::testing::CpuWakeLatencyUs(), 0);
  ::close(*fd);
  EXPECT_EQ(muster::testing::CpuWakeLatencyUs(), before);
}

TEST(Host, PortProbeSeesABoundPort) {
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  EXPECT_TRUE(PortInUse(port, core::Protocol::kUDP));
  EXPECT_TRUE(PortInUse(port, core::Protocol::kTCPUDP));
  ::close(fd);
  EXPECT_FALSE(PortInUse(port, core::Protocol::kUDP));
}

}  // namespace
}  // namespace muster::runtime
