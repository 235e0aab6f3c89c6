#include "runtime/proc.h"

#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

namespace muster::runtime {

std::optional<uint64_t> ReadStartTicks(int pid, bool allow_zombie) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!in || !std::getline(in, line)) return std::nullopt;
  size_t close = line.rfind(')');  // the command name may contain spaces and ')'
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  // After "pid (comm) " come fields 3.. ; starttime is field 22, i.e. the 20th here.
  for (int i = 3; i <= 22; ++i) {
    if (!(rest >> field)) return std::nullopt;
  }
  if (field.empty()) return std::nullopt;
  // A zombie still has its stat; it no longer runs.
  std::istringstream again(line.substr(close + 2));
  std::string state;
  again >> state;
  if (!allow_zombie && (state == "Z" || state == "X")) return std::nullopt;
  return std::stoull(field);
}

int OpenPidFd(int pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

std::vector<int> ListPids() {
  std::vector<int> pids;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (!name.empty() && name.find_first_not_of("0123456789") == std::string::npos)
      pids.push_back(std::stoi(name));
  }
  return pids;
}

std::optional<std::map<std::string, std::string>> ReadStartEnv(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/environ", std::ios::binary);
  if (!in) return std::nullopt;
  const std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return std::nullopt;
  std::map<std::string, std::string> env;
  for (size_t at = 0; at < all.size();) {  // NAME=value entries, each ended by a NUL
    size_t end = all.find('\0', at);
    if (end == std::string::npos) end = all.size();
    const size_t eq = all.find('=', at);
    if (eq < end) env.emplace(all.substr(at, eq - at), all.substr(eq + 1, end - eq - 1));
    at = end + 1;
  }
  return env;
}

bool ReapChild(int pid, int* exit_code, int* signal) {
  int status = 0;
  pid_t r = ::waitpid(pid, &status, WNOHANG);
  if (r != pid) return false;
  *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
  *signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  return true;
}

}  // namespace muster::runtime
