// Scale-up benchmark: time from applying an N-replica echo fleet to N Ready, against
// the real `muster serve` binary and real muster-echo processes.
//
//   build/bin/bench_scaleup [--replicas 1000] [--runs 3]
//   (--help lists the flags and their defaults)
//
// Prints one JSON line per run and a summary; docs/benchmarks.md records results.
#include <chrono>
#include <fstream>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include "support/muster_process.h"
#include "support/poll.h"

using namespace muster::testing;
using namespace std::chrono_literals;

namespace {
// Resident memory of a process in MiB, from /proc/<pid>/status.
double RssMiB(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  return 0;
}
}  // namespace

int main(int argc, char** argv) {
  int replicas = 1000, runs = 3;
  CLI::App app{
      "Scale-up: time from applying an echo fleet to a muster serve it starts until "
      "every replica is Ready; prints a JSON line per run and a summary"};
  app.add_option("--replicas", replicas, "Replicas of the fleet")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--runs", runs, "Runs, each on a fresh muster serve")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  double best = 1e9, total = 0;
  for (int run = 1; run <= runs; ++run) {
    MusterProcess muster({"30000-31999", "32000-35999", {"--log-level", "warn"}});
    if (!muster.Start()) return 1;
    muster.StopOnSignals();
    json fleet = EchoFleet("bench", replicas);
    fleet["spec"]["template"]["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"] =
        "2000";
    const auto t0 = std::chrono::steady_clock::now();
    int status = 0;
    muster.Call("POST", "/v1/fleets", fleet, &status);
    if (status != 201) {
      std::cerr << "apply failed: " << status << "\n";
      return 1;
    }
    int ready = 0;
    bool done = PollUntil(
        [&] {
          json f = muster.Call("GET", "/v1/fleets/bench");
          ready = f.is_object() ? f["status"].value("readyReplicas", 0) : 0;
          return ready >= replicas;
        },
        120s, 10ms);
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!done) {
      std::cerr << "only " << ready << " of " << replicas << " Ready after 120 s\n";
      return 1;
    }
    std::cout << "{\"benchmark\":\"scaleup\",\"run\":" << run << ",\"replicas\":" << replicas
              << ",\"seconds_to_all_ready\":" << secs
              << ",\"muster_rss_mib\":" << RssMiB(muster.serve_pid()) << "}" << std::endl;
    best = std::min(best, secs);
    total += secs;
  }
  std::cout << "scaleup: " << replicas << " replicas, best " << best << " s, mean " << total / runs
            << " s over " << runs << " runs" << std::endl;
  return 0;
}
