// Runs the real `muster serve` binary for end-to-end tests and benchmarks: a fresh
// temporary data dir, its own port ranges, the API on a free loopback port. Also
// small helpers to talk to it and to game servers (HTTP, UDP, processes).
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/http_client.h"

namespace muster::testing {

using nlohmann::json;

struct ServeConfig {
  std::string game_ports = "21000-21999";
  std::string sdk_ports = "22000-23999";
  std::vector<std::string> extra_args;
};

class MusterProcess {
 public:
  // Creates a temp data dir; does not start anything yet.
  explicit MusterProcess(ServeConfig config = {});
  // Stops serve with SIGTERM (it runs with --stop-on-exit, so its game servers
  // stop too), SIGKILLs any game-server process group still left, removes the dir.
  ~MusterProcess();

  // Starts `muster serve` and waits until its API answers. False on failure
  // (the log is printed).
  bool Start();
  // SIGKILL of `muster serve` only; its game servers keep running.
  void Kill9();
  // For programs run by hand (the benchmarks): SIGINT, SIGTERM and SIGHUP first send
  // this serve SIGTERM (it runs with --stop-on-exit, so its game servers stop too), then
  // end the program as the signal would; SIGPIPE is ignored, so that `| head` ends the
  // program by its normal exit, which stops the serve as well. The data dir stays.
  // Covers the last serve it was called for.
  void StopOnSignals() const;
  int serve_pid() const { return pid_; }

  const std::string& data_dir() const { return dir_; }
  std::string addr() const;
  std::string token() const;
  std::string ServeLog() const;

  // One request to the API with the admin token. `status` gets the HTTP status.
  json Call(const std::string& method, const std::string& target, const json& body = nullptr,
            int* status = nullptr);
  // Raw body variant (for YAML and malformed input); no token when `token` is false.
  api::HttpResult Raw(const std::string& method, const std::string& target, const std::string& body,
                      const std::string& content_type = "application/json", bool token = true);

  // Game servers of `fleet` (all if empty) from the API.
  std::vector<json> GameServers(const std::string& fleet = "");
  // Names of servers in `state`.
  std::vector<json> InState(const std::string& fleet, const std::string& state);

  // Runs the muster CLI against this server; returns exit code, fills stdout/stderr.
  int Cli(const std::vector<std::string>& args, std::string* out, std::string* err = nullptr);

 private:
  ServeConfig config_;
  std::string dir_;
  int pid_ = 0;
  std::set<int> seen_game_pids_;
  std::unique_ptr<api::HttpClient> client_;
};

// A registered (process-less) GameServer manifest: runs "elsewhere" at 10.1.0.1.
json ExternalServer(const std::string& name, int port, const json& labels = json::object(),
                    const std::string& fleet = "");

// Registers `n` process-less servers named <pool>-<i>, labelled pool=<pool>, with game
// ports from `first_port`, and waits until all are Ready (gtest failures if not).
void RegisterPool(MusterProcess& m, const std::string& pool, int n, int first_port = 40000);

// A fleet of muster-echo servers as JSON.
json EchoFleet(const std::string& name, int replicas, const json& health = nullptr);

// True if `pid` names a live process (not a zombie).
bool ProcessAlive(int pid);
// Sends `payload` to 127.0.0.1:port over UDP and waits up to `timeout_ms` for the echo.
bool UdpEcho(int port, const std::string& payload, int timeout_ms = 1000);
// The machine's CPU wake-up latency limit now (PM QoS, /dev/cpu_dma_latency), in µs;
// nullopt if it cannot be read (it needs root).
std::optional<int> CpuWakeLatencyUs();
// Starts `argv` (argv[0] a path) with this process's environment plus `extra_env`
// ("NAME=value"): stdin /dev/null, stdout to `out_path` (truncated), stderr appended to
// `err_path`. Returns its pid, or -1. The caller reaps it.
int Spawn(const std::vector<std::string>& argv, const std::string& out_path,
          const std::string& err_path, const std::vector<std::string>& extra_env);
// Runs a command; returns its exit code and captures stdout and stderr.
int RunCommand(const std::vector<std::string>& argv, std::string* out, std::string* err,
               const std::vector<std::string>& env = {});

}  // namespace muster::testing
