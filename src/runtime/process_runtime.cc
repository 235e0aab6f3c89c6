#include "runtime/process_runtime.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include "runtime/log_file.h"
#include "runtime/proc.h"

extern char** environ;

namespace muster::runtime {
namespace fs = std::filesystem;

namespace {
constexpr char kInstanceVar[] = "MUSTER_INSTANCE";
constexpr char kNameVar[] = "MUSTER_GAMESERVER_NAME";
}  // namespace

std::string ExitEvent::Describe() const {
  if (!status_known) return "exited";
  if (signal) return "killed by signal " + std::to_string(signal) + " (" + strsignal(signal) + ")";
  return "exited with code " + std::to_string(exit_code);
}

ProcessRuntime::ProcessRuntime(boost::asio::io_context& owner, Options options)
    : owner_(owner), options_(std::move(options)), log_timer_(owner) {
  std::error_code ec;
  fs::create_directories(options_.log_dir, ec);
  ScheduleLogCheck();
}

ProcessRuntime::~ProcessRuntime() {
  // Game servers outlive Muster on purpose: close our descriptors, signal nothing.
  log_timer_.cancel();
  for (auto& [name, proc] : procs_) {
    if (proc->kill_timer) proc->kill_timer->cancel();
    if (proc->pidfd) proc->pidfd->close();
  }
}

std::string ProcessRuntime::LogPath(const std::string& name) const {
  return options_.log_dir + "/" + name + ".log";
}

std::string ProcessRuntime::ReadLogs(const std::string& name, uint64_t max_bytes) const {
  return ReadLogTail(LogPath(name), max_bytes);
}

core::StatusOr<std::string> ProcessRuntime::ResolveCommand(const core::ProcessSpec& p) const {
  const std::string& cmd = p.command.front();
  if (cmd.find('/') != std::string::npos) return cmd;  // as given; relative to workingDir
  std::vector<std::string> dirs;
  if (const char* path = ::getenv("PATH")) {
    std::string all = path;
    size_t start = 0;
    while (start <= all.size()) {
      size_t colon = all.find(':', start);
      dirs.push_back(
          all.substr(start, colon == std::string::npos ? std::string::npos : colon - start));
      if (colon == std::string::npos) break;
      start = colon + 1;
    }
  }
  dirs.insert(dirs.end(), options_.extra_path_dirs.begin(), options_.extra_path_dirs.end());
  for (const std::string& dir : dirs) {
    if (dir.empty()) continue;
    std::string candidate = dir + "/" + cmd;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  std::string searched = "$PATH";
  for (const auto& d : options_.extra_path_dirs) searched += ", " + d;
  return core::FailedPrecondition("command \"" + cmd + "\" not found (searched " + searched + ")");
}

std::vector<std::string> ProcessRuntime::BuildEnv(const LaunchSpec& spec) const {
  // Muster's own environment, then the template's env, then Muster's variables.
  std::map<std::string, std::string> vars;
  for (char** e = environ; e && *e; ++e) {
    std::string kv = *e;
    size_t eq = kv.find('=');
    if (eq != std::string::npos) vars[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& v : spec.process.env)
    if (v.has_value) vars[v.name] = v.value;
  for (const auto& [k, v] : spec.env) vars[k] = v;
  vars[kNameVar] = spec.name;
  if (!options_.instance.empty()) vars[kInstanceVar] = options_.instance;
  std::vector<std::string> out;
  out.reserve(vars.size());
  for (const auto& [k, v] : vars) out.push_back(k + "=" + v);
  return out;
}

core::StatusOr<ProcessInfo> ProcessRuntime::Start(const LaunchSpec& spec) {
  if (procs_.count(spec.name)) return core::FailedPrecondition(spec.name + " is already running");
  auto path = ResolveCommand(spec.process);
  if (!path.ok()) return path.status();

  std::vector<std::string> argv_s = spec.process.command;
  argv_s.front() = *path;
  argv_s.insert(argv_s.end(), spec.process.args.begin(), spec.process.args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_s = BuildEnv(spec);
  std::vector<char*> envp;
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);

  const std::string log = LogPath(spec.name);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  posix_spawn_file_actions_addclosefrom_np(&fa, 3);  // no listening socket leaks into a game server
  if (!spec.process.working_dir.empty())
    posix_spawn_file_actions_addchdir_np(&fa, spec.process.working_dir.c_str());

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigfillset(&defaults);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);  // e.g. Muster ignores SIGPIPE; they must not
  // The kernel's default CPU policy, not the one Muster's threads may run at (SCHED_BATCH).
  const sched_param priority{0};
  posix_spawnattr_setschedpolicy(&attr, SCHED_OTHER);
  posix_spawnattr_setschedparam(&attr, &priority);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSCHEDULER |
                                      POSIX_SPAWN_USEVFORK);

  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, argv[0], &fa, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    std::string where = spec.process.working_dir.empty() ? "" : " in " + spec.process.working_dir;
    return core::FailedPrecondition("cannot start " + *path + where + ": " + std::strerror(rc));
  }
  // Not yet reaped (that happens on the pidfd), so readable even if it exited at once.
  ProcessInfo info{pid, ReadStartTicks(pid, /*allow_zombie=*/true).value_or(0)};
  Watch(spec.name, pid, /*child=*/true);  // a process that died at once is reported as an exit
  return info;
}

bool ProcessRuntime::Adopt(const std::string& name, const ProcessInfo& info) {
  if (info.pid <= 0 || procs_.count(name)) return procs_.count(name) > 0;
  auto ticks = ReadStartTicks(info.pid);
  if (!ticks || *ticks != info.start_ticks) return false;
  return Watch(name, info.pid, /*child=*/false);
}

bool ProcessRuntime::Watch(const std::string& name, int pid, bool child) {
  int fd = OpenPidFd(pid);
  auto proc = std::make_unique<Proc>();
  proc->pid = pid;
  proc->child = child;
  if (fd < 0) {
    // Already gone (ESRCH). Report the exit asynchronously, like any other.
    procs_[name] = std::move(proc);
    boost::asio::post(owner_, [this, name, pid] { OnExited(name, pid); });
    return false;
  }
  proc->pidfd = std::make_unique<boost::asio::posix::stream_descriptor>(owner_, fd);
  proc->pidfd->async_wait(boost::asio::posix::stream_descriptor::wait_read,
                          [this, name, pid](const boost::system::error_code& ec) {
                            if (ec == boost::asio::error::operation_aborted) return;
                            OnExited(name, pid);
                          });
  procs_[name] = std::move(proc);
  return true;
}

void ProcessRuntime::OnExited(const std::string& name, int pid) {
  auto it = procs_.find(name);
  if (it == procs_.end() || it->second->pid != pid) return;
  ExitEvent ev{name, pid, false, 0, 0};
  if (it->second->child) ev.status_known = ReapChild(pid, &ev.exit_code, &ev.signal);
  if (it->second->stopping) ::kill(-pid, SIGKILL);  // stragglers left in its process group
  if (it->second->kill_timer) it->second->kill_timer->cancel();
  procs_.erase(it);
  if (on_exit_) on_exit_(ev);
}

std::vector<std::string> ProcessRuntime::KillStrays() {
  std::vector<std::string> killed;
  if (options_.instance.empty()) return killed;
  const int self = ::getpid();
  for (int pid : ListPids()) {
    if (pid == self) continue;
    // The pidfd, opened before the process is looked at, pins it: if it ends and another
    // takes its pid, the signal below fails rather than reach that other one.
    const int fd = OpenPidFd(pid);
    if (fd < 0) continue;  // gone meanwhile
    const auto env = ReadStartEnv(pid).value_or(std::map<std::string, std::string>{});
    auto var = [&](const char* n) {
      auto it = env.find(n);
      return it == env.end() ? std::string() : it->second;
    };
    const std::string name = var(kNameVar);
    // Ours, and not the process of a server we run (or one of its own processes).
    const bool stray = var(kInstanceVar) == options_.instance && !procs_.count(name);
    bool signalled = false;
    if (stray) {
      // Its process group first (every group in a game server's session is the game
      // server's), if it leads it or the leader is gone: a leader still running is a
      // process looked at on its own. While this member lives (the probe through the
      // pidfd says so) the group's id cannot be reused.
      const pid_t group = ::getpgid(pid);
      const bool leaderless = group > 0 && group != pid && ::kill(group, 0) != 0 && errno == ESRCH;
      if ((group == pid || leaderless) && ::syscall(SYS_pidfd_send_signal, fd, 0, nullptr, 0) == 0)
        ::kill(-group, SIGKILL);
      signalled = ::syscall(SYS_pidfd_send_signal, fd, SIGKILL, nullptr, 0) == 0;
    }
    ::close(fd);
    if (signalled)
      killed.push_back("killed process " + std::to_string(pid) + " of game server " +
                       (name.empty() ? "(unnamed)" : name) +
                       ": this instance started it, and no server it runs accounts for it");
  }
  return killed;
}

void ProcessRuntime::Stop(const std::string& name, std::chrono::seconds grace) {
  auto it = procs_.find(name);
  if (it == procs_.end() || it->second->stopping) return;
  Proc& p = *it->second;
  p.stopping = true;
  ::kill(-p.pid, SIGTERM);
  p.kill_timer = std::make_unique<boost::asio::steady_timer>(owner_, grace);
  int pid = p.pid;
  p.kill_timer->async_wait([this, name, pid](const boost::system::error_code& ec) {
    if (ec) return;
    auto it = procs_.find(name);
    if (it == procs_.end() || it->second->pid != pid) return;
    spdlog::warn("game server {} did not stop within its grace period; SIGKILL", name);
    ::kill(-pid, SIGKILL);
  });
}

bool ProcessRuntime::IsRunning(const std::string& name) const { return procs_.count(name) > 0; }

void ProcessRuntime::ScheduleLogCheck() {
  log_timer_.expires_after(options_.log_check_interval);
  log_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    for (const auto& [name, proc] : procs_) EnforceLogCap(LogPath(name), options_.log_max_bytes);
    ScheduleLogCheck();
  });
}

}  // namespace muster::runtime
