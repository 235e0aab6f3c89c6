// Runtime for embedded mode: each game server is a local child process in its own
// session and process group, with stdout and stderr appended to
// <log_dir>/<name>.log. Processes outlive Muster; a later Muster re-adopts them.
// Exits are noticed through pidfds on the owner's io_context (no polling).
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "runtime/runtime.h"

namespace muster::runtime {

class ProcessRuntime : public Runtime {
 public:
  struct Options {
    std::string log_dir;
    uint64_t log_max_bytes = 10 * 1024 * 1024;
    std::chrono::milliseconds log_check_interval{2000};
    // Searched after $PATH for a command without a '/', e.g. the directory of the
    // muster executable, where the example game servers are installed.
    std::vector<std::string> extra_path_dirs;
    // Names this runtime's processes across restarts (serve: its data dir). Each process
    // gets it as MUSTER_INSTANCE, so that a later runtime of the same instance can find
    // the ones it was never told of (KillStrays). Empty: none are tagged or found.
    std::string instance;
  };

  // `owner` is the owner thread's io_context: every method must be called there,
  // and exit events are delivered there.
  ProcessRuntime(boost::asio::io_context& owner, Options options);
  ~ProcessRuntime() override;

  core::StatusOr<ProcessInfo> Start(const LaunchSpec& spec) override;
  bool Adopt(const std::string& name, const ProcessInfo& info) override;
  // A stray: a process started with this instance's MUSTER_INSTANCE whose
  // MUSTER_GAMESERVER_NAME names no server this runtime runs (after adoption). Each gets
  // SIGKILL, and so does its process group when it leads one or the leader is gone.
  std::vector<std::string> KillStrays() override;
  void Stop(const std::string& name, std::chrono::seconds grace) override;
  bool IsRunning(const std::string& name) const override;
  void SetExitHandler(ExitHandler handler) override { on_exit_ = std::move(handler); }
  std::string ReadLogs(const std::string& name, uint64_t max_bytes) const override;

  std::string LogPath(const std::string& name) const;
  size_t running() const { return procs_.size(); }

 private:
  struct Proc {
    int pid = 0;
    bool child = false;
    bool stopping = false;
    std::unique_ptr<boost::asio::posix::stream_descriptor> pidfd;
    std::unique_ptr<boost::asio::steady_timer> kill_timer;
  };

  core::StatusOr<std::string> ResolveCommand(const core::ProcessSpec& p) const;
  std::vector<std::string> BuildEnv(const LaunchSpec& spec) const;
  bool Watch(const std::string& name, int pid, bool child);
  void OnExited(const std::string& name, int pid);
  void ScheduleLogCheck();

  boost::asio::io_context& owner_;
  Options options_;
  ExitHandler on_exit_;
  std::unordered_map<std::string, std::unique_ptr<Proc>> procs_;
  boost::asio::steady_timer log_timer_;
};

}  // namespace muster::runtime
