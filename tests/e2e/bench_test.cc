// The allocation load generator (bench/alloc) against the real binary, briefly: what it
// counts matches what the store holds, and its modes and doors run without errors. It
// measures nothing here: the numbers belong in docs/benchmarks.md, not in assertions.
#include <algorithm>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "support/muster_process.h"

namespace muster::testing {
namespace {

struct BenchRun {
  int exit_code = -1;
  json report;             // the (last) JSON line with "benchmark": "alloc"; null if none
  std::vector<json> runs;  // every such line, one per measured run
  json summary;            // the line with "benchmark": "alloc_runs" (--runs); null if none
  std::string out, err;
};

BenchRun RunBench(const std::vector<std::string>& args) {
  BenchRun run;
  std::vector<std::string> argv = {BENCH_ALLOC_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  run.exit_code = RunCommand(argv, &run.out, &run.err);
  std::istringstream lines(run.out);
  for (std::string line; std::getline(lines, line);) {
    json j = json::parse(line, nullptr, false);
    if (!j.is_object()) continue;
    if (j.value("benchmark", "") == "alloc") run.runs.push_back(run.report = j);
    if (j.value("benchmark", "") == "alloc_runs") run.summary = j;
  }
  return run;
}

TEST(Bench, AllocCountsWhatTheStoreHoldsAndAnswers429OnlyOnceThePoolIsGone) {
  MusterProcess muster({"28400-28499", "28500-29299", {}});
  ASSERT_TRUE(muster.Start());
  constexpr int kPool = 300;
  RegisterPool(muster, "bench", kPool);
  BenchRun run = RunBench({"--addr", muster.addr(), "--token", muster.token(), "--mode",
                           "registered", "--connections", "8", "--seconds", "2"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  ASSERT_TRUE(run.report.is_object()) << run.out;
  const json& r = run.report;
  EXPECT_EQ(r["errors"], 0) << run.err;
  EXPECT_EQ(r["duplicates"], 0);
  const long allocations = r["allocations"];
  EXPECT_GT(allocations, 0);
  // "None available" only once every server was handed out.
  if (r["exhausted_429"].get<long>() > 0) {
    EXPECT_EQ(allocations, kPool);
  }

  // Every allocation it counted is in the store, each on its own server and session.
  std::vector<json> allocated = muster.InState("", "Allocated");
  EXPECT_EQ(static_cast<long>(allocated.size()), allocations);
  std::set<std::string> sessions;
  for (const json& gs : allocated) {
    const std::string session = gs["status"]["allocation"]["sessionId"];
    EXPECT_EQ(session.rfind("w", 0), 0u) << session << " was not the load generator's";
    EXPECT_TRUE(sessions.insert(session).second) << session << " on two servers";
  }
  EXPECT_EQ(static_cast<long>(muster.InState("", "Ready").size()), kPool - allocations);
  // And a summary for people on stderr, beside the JSON on stdout.
  EXPECT_NE(run.err.find("allocations/s over"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("0 duplicates, 0 errors"), std::string::npos) << run.err;
  EXPECT_TRUE(r["cpu"]["thread_us_per_op"].contains("bench_alloc")) << r["cpu"];
}

// The handback mode starts its own serve with a fleet of echo processes and hands each
// allocated server back over its SDK port, through each compatible door.
TEST(Bench, AllocHandsServersBackThroughTheAgonesAndThundernetesDoors) {
  for (const std::string door : {"agones", "thundernetes"}) {
    SCOPED_TRACE(door);
    BenchRun run = RunBench({"--mode", "handback", "--door", door, "--pool", "3", "--connections",
                             "3", "--seconds", "2"});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    ASSERT_TRUE(run.report.is_object()) << run.out;
    const json& r = run.report;
    EXPECT_EQ(r["door"], door);
    EXPECT_GT(r["allocations"].get<long>(), 0) << run.err;
    EXPECT_GT(r["returns"].get<long>(), 0) << run.err;
    EXPECT_EQ(r["errors"], 0) << run.err;
    EXPECT_EQ(r["return_errors"], 0) << run.err;
    EXPECT_EQ(r["duplicates"], 0);
    // The serve it started was measured beside it.
    EXPECT_TRUE(r["cpu"]["thread_us_per_op"].contains("muster-owner")) << r["cpu"];
  }
}

// --runs: each run is measured and reported on its own, and the last line sums them up
// from what the runs reported (two runs: the median is the mean of both). The target is set
// low only so that either answer can occur; nothing is asserted about speed.
TEST(Bench, AllocRunsEndWithTheirMedianSpreadAndHowManyMetTheTarget) {
  BenchRun run = RunBench({"--mode", "handback", "--pool", "3", "--connections", "3", "--seconds",
                           "1", "--runs", "2", "--target-per-s", "500", "--target-p99-ms", "20"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  ASSERT_EQ(run.runs.size(), 2u) << run.out;
  ASSERT_TRUE(run.summary.is_object()) << run.out;
  const json& s = run.summary;
  EXPECT_EQ(s["runs"], 2);
  EXPECT_EQ(s["target"], (json{{"allocations_per_s", 500.0}, {"p99_ms", 20.0}}));
  long met = 0;
  for (const json& r : run.runs) {
    EXPECT_EQ(r["errors"], 0) << run.err;
    EXPECT_EQ(r["duplicates"], 0);
    const bool meets =
        r["allocations_per_s"].get<double>() >= 500 && r["p99_ms"].get<double>() < 20;
    EXPECT_EQ(r["met_target"], meets) << r.dump();
    met += meets;
  }
  EXPECT_EQ(s["met_target"], met);
  for (const char* key : {"allocations_per_s", "p99_ms"}) {
    SCOPED_TRACE(key);
    const double a = run.runs[0][key].get<double>(), b = run.runs[1][key].get<double>();
    EXPECT_DOUBLE_EQ(s[key]["median"].get<double>(), (a + b) / 2);
    EXPECT_DOUBLE_EQ(s[key]["min"].get<double>(), std::min(a, b));
    EXPECT_DOUBLE_EQ(s[key]["max"].get<double>(), std::max(a, b));
  }
  EXPECT_NE(run.err.find("run 2 of 2"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("met in " + std::to_string(met) + " of 2"), std::string::npos) << run.err;

  BenchRun once =
      RunBench({"--mode", "handback", "--pool", "3", "--connections", "3", "--seconds", "1"});
  ASSERT_EQ(once.exit_code, 0) << once.err;
  EXPECT_EQ(once.runs.size(), 1u);
  EXPECT_TRUE(once.summary.is_null()) << "a single run needs no summary across runs";
}

TEST(Bench, AllocRefusesACombinationItCannotRun) {
  BenchRun run = RunBench({"--mode", "registered", "--door", "thundernetes"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("use --mode handback"), std::string::npos) << run.err;
  run = RunBench({"--connections", "0"});
  EXPECT_EQ(run.exit_code, 105) << run.err;  // CLI11's code for a value out of range
  // A registered pool given by --addr is allocated once: a second run would find it gone.
  run = RunBench({"--mode", "registered", "--addr", "127.0.0.1:1", "--token", "t", "--runs", "2"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("--runs 2 with --addr"), std::string::npos) << run.err;
  run = RunBench({"--runs", "0"});
  EXPECT_EQ(run.exit_code, 105) << run.err;
}

}  // namespace
}  // namespace muster::testing
