// What bench_alloc says about its runs once they are measured: whether a run met the
// target, a run's summary for people (stderr), and the summary across --runs.
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

namespace muster::bench {

// A run meets the target with at least `per_s` allocations/s and a p99 under `p99_ms`.
// The defaults are issue #3's.
struct AllocTarget {
  double per_s = 20000;
  double p99_ms = 5;
};

// REQUIRES: `run` is bench_alloc's JSON line (allocations_per_s, p99_ms, ...).
bool MeetsTarget(const AllocTarget& target, const nlohmann::json& run);

// The run's JSON line once more for a person, on stderr, with whether it met the target
// and a note when the hypervisor took CPU time from this VM during the run: such runs
// compare only with runs at a similar steal (docs/benchmarks.md).
void PrintRunSummary(const AllocTarget& target, const nlohmann::json& run);

// Across --runs: the median, lowest and highest throughput and p99, each run's steal, and
// how many runs met the target, as one JSON line on stdout and a sentence on stderr.
// REQUIRES: `runs` is not empty.
void PrintRunsSummary(const AllocTarget& target, const std::vector<nlohmann::json>& runs);

}  // namespace muster::bench
