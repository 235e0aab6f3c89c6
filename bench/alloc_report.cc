#include "alloc_report.h"

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <string>

namespace muster::bench {

using nlohmann::json;

bool MeetsTarget(const AllocTarget& target, const json& run) {
  return run["allocations_per_s"].get<double>() >= target.per_s &&
         run["p99_ms"].get<double>() < target.p99_ms;
}

void PrintRunSummary(const AllocTarget& target, const json& r) {
  const json& cpu = r["cpu"];
  std::fprintf(stderr,
               "%.0f allocations/s over %.1f s (%s door, %d connections): p50 %.2f ms, p99 "
               "%.2f ms, p99.9 %.2f ms; %ld duplicates, %ld errors, %ld answered 429\n",
               r["allocations_per_s"].get<double>(), r["seconds"].get<double>(),
               r["door"].get<std::string>().c_str(), r["connections"].get<int>(),
               r["p50_ms"].get<double>(), r["p99_ms"].get<double>(), r["p999_ms"].get<double>(),
               r["duplicates"].get<long>(), r["errors"].get<long>(),
               r["exhausted_429"].get<long>());
  const double steal = cpu.value("steal_pct", 0.0);
  std::fprintf(stderr, "machine CPU %.0f µs per allocation; idle %.0f %%, steal %.0f %%\n",
               cpu.value("machine_busy_us_per_op", 0.0), cpu.value("idle_pct", 0.0), steal);
  std::fprintf(stderr, "target (>= %.0f allocations/s with p99 < %g ms): %s\n", target.per_s,
               target.p99_ms, MeetsTarget(target, r) ? "met" : "not met");
  if (steal >= 2)
    std::fprintf(stderr,
                 "note: the hypervisor took %.0f %% of this machine's CPU time during the run "
                 "(steal); compare it only with runs at a similar steal\n",
                 steal);
}

namespace {

// {median, min, max} over the runs of what `of` reads from each.
template <typename F>
json Spread(const std::vector<json>& runs, F of) {
  std::vector<double> v;
  for (const json& r : runs) v.push_back(of(r));
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  const double median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  return json{{"median", median}, {"min", v.front()}, {"max", v.back()}};
}

}  // namespace

void PrintRunsSummary(const AllocTarget& target, const std::vector<json>& runs) {
  long met = 0;
  for (const json& r : runs) met += MeetsTarget(target, r);
  const json rate =
      Spread(runs, [](const json& r) { return r["allocations_per_s"].get<double>(); });
  const json p99 = Spread(runs, [](const json& r) { return r["p99_ms"].get<double>(); });
  const json steal = Spread(runs, [](const json& r) { return r["cpu"].value("steal_pct", 0.0); });
  std::cout << json{{"benchmark", "alloc_runs"},
                    {"runs", runs.size()},
                    {"allocations_per_s", rate},
                    {"p99_ms", p99},
                    {"steal_pct", steal},
                    {"met_target", met},
                    {"target", {{"allocations_per_s", target.per_s}, {"p99_ms", target.p99_ms}}}}
                   .dump()
            << std::endl;
  auto at = [](const json& spread, const char* k) { return spread[k].get<double>(); };
  std::fprintf(stderr,
               "%zu runs: allocations/s median %.0f (lowest %.0f, highest %.0f); p99 median %.2f "
               "ms (lowest %.2f, highest %.2f); steal median %.0f %% (lowest %.0f, highest "
               "%.0f); the target (>= %.0f/s with p99 < %g ms) met in %ld of %zu\n",
               runs.size(), at(rate, "median"), at(rate, "min"), at(rate, "max"), at(p99, "median"),
               at(p99, "min"), at(p99, "max"), at(steal, "median"), at(steal, "min"),
               at(steal, "max"), target.per_s, target.p99_ms, met, runs.size());
}

}  // namespace muster::bench
