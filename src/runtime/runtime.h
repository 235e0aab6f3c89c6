// Runs game servers. Embedded mode: local processes (process_runtime.h); Kubernetes
// mode: Pods. Everything above talks to this interface.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/model.h"

namespace muster::runtime {

struct LaunchSpec {
  std::string name;  // the game server's name; the runtime passes it as MUSTER_GAMESERVER_NAME
  core::ProcessSpec process;                             // command, args, env, workingDir
  std::vector<std::pair<std::string, std::string>> env;  // MUSTER_* and AGONES_* variables
};

struct ProcessInfo {
  int pid = 0;
  uint64_t start_ticks = 0;  // /proc/<pid>/stat starttime: (pid, start_ticks) names one process
};

struct ExitEvent {
  std::string name;
  int pid = 0;
  bool status_known = false;  // false for re-adopted processes (not our children)
  int exit_code = 0;
  int signal = 0;
  std::string Describe() const;  // "exited with code 3", "killed by signal 9", "exited"
};

class Runtime {
 public:
  virtual ~Runtime() = default;
  using ExitHandler = std::function<void(const ExitEvent&)>;

  // Launches a game server. FailedPrecondition with the reason when it cannot be
  // started (command not found, exec failed). REQUIRES: the owner thread.
  virtual core::StatusOr<ProcessInfo> Start(const LaunchSpec& spec) = 0;

  // Takes over a process started by an earlier Muster, if (pid, start_ticks) still
  // names a live process. Its exit is then reported like any other. REQUIRES: owner thread.
  virtual bool Adopt(const std::string& name, const ProcessInfo& info) = 0;

  // Kills the processes this instance started earlier that no server it runs now (after
  // every Adopt) accounts for. Chiefly those an earlier Muster never recorded: it stopped
  // (a crash, `kill -9`) after a start and before the write of the pid was durable. Such
  // a process holds no match (batches become durable in order, so no allocation of its
  // server was answered), but it holds ports and would call the SDK. Also what is left of
  // a server whose process ended while Muster was down (its children). Call after every
  // Adopt and before any Start. Answers one line per process killed, for the log.
  // REQUIRES: the owner thread.
  virtual std::vector<std::string> KillStrays() = 0;

  // SIGTERM to the server's process group, SIGKILL to it after `grace`. Idempotent.
  // REQUIRES: the owner thread.
  virtual void Stop(const std::string& name, std::chrono::seconds grace) = 0;

  // True while the named server has a live process. REQUIRES: the owner thread.
  virtual bool IsRunning(const std::string& name) const = 0;

  // Exits are reported on the owner thread, at once (no polling). Set before Start.
  virtual void SetExitHandler(ExitHandler handler) = 0;

  // The last `max_bytes` of the server's stdout and stderr. Thread-safe: reads files only.
  virtual std::string ReadLogs(const std::string& name, uint64_t max_bytes) const = 0;
};

}  // namespace muster::runtime
