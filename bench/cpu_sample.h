// CPU use over a benchmark's measured window, read from /proc: the machine's busy,
// idle and steal time, and each named thread's time in the processes watched. Linux
// only; what cannot be read counts as zero.
//
//   CpuSample before = CpuSample::Take({serve_pid, getpid()});
//   ... run ...
//   nlohmann::json usage = CpuSample::Take({serve_pid, getpid()}).Since(before, operations);
//
// `Since` gives microseconds of CPU per operation for the machine and for each thread
// name (threads of one name summed), plus idle and steal shares of the window. These
// move less from run to run than throughput does on a shared VM.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace muster::bench {

class CpuSample {
 public:
  static CpuSample Take(const std::vector<int>& pids);
  nlohmann::json Since(const CpuSample& before, long operations) const;

 private:
  // /proc/stat's first line: user nice system idle iowait irq softirq steal.
  std::vector<long long> machine_;
  std::map<std::string, long long> threads_;  // thread name -> utime + stime, in ticks
};

}  // namespace muster::bench
