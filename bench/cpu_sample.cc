#include "cpu_sample.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace muster::bench {

namespace {

std::string ReadLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// utime + stime of one thread: fields 14 and 15 of its stat line, counted after the
// command name, which is in parentheses and may hold spaces.
long long ThreadTicks(const std::string& stat) {
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  long long utime = 0, stime = 0;
  for (int i = 3; rest >> field; ++i) {  // field 3 is the state
    if (i == 14) utime = std::stoll(field);
    if (i == 15) {
      stime = std::stoll(field);
      break;
    }
  }
  return utime + stime;
}

}  // namespace

CpuSample CpuSample::Take(const std::vector<int>& pids) {
  CpuSample s;
  std::istringstream cpu(ReadLine("/proc/stat"));
  std::string label;
  cpu >> label;
  for (long long v; s.machine_.size() < 8 && cpu >> v;) s.machine_.push_back(v);
  s.machine_.resize(8, 0);
  for (int pid : pids) {
    std::error_code ec;
    const std::string task = "/proc/" + std::to_string(pid) + "/task";
    for (const auto& t : std::filesystem::directory_iterator(task, ec)) {
      const std::string name = ReadLine(t.path().string() + "/comm");
      if (!name.empty()) s.threads_[name] += ThreadTicks(ReadLine(t.path().string() + "/stat"));
    }
  }
  return s;
}

nlohmann::json CpuSample::Since(const CpuSample& before, long operations) const {
  const double us_per_tick = 1e6 / static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double ops = operations > 0 ? static_cast<double>(operations) : 1.0;
  auto delta = [&](int i) { return static_cast<double>(machine_[i] - before.machine_[i]); };
  const double idle = delta(3) + delta(4), steal = delta(7);
  double busy = 0;
  for (int i : {0, 1, 2, 5, 6}) busy += delta(i);
  const double total = busy + idle + steal > 0 ? busy + idle + steal : 1.0;
  nlohmann::json threads = nlohmann::json::object();
  for (const auto& [name, ticks] : threads_) {
    auto it = before.threads_.find(name);
    const double d = static_cast<double>(ticks - (it == before.threads_.end() ? 0 : it->second));
    if (d > 0) threads[name] = d * us_per_tick / ops;
  }
  return {{"machine_busy_us_per_op", busy * us_per_tick / ops},
          {"idle_pct", 100.0 * idle / total},
          {"steal_pct", 100.0 * steal / total},
          {"thread_us_per_op", threads}};
}

}  // namespace muster::bench
