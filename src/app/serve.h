// `muster serve`: embedded mode. Parses and checks its options (reporting every
// problem at once), then builds the object graph and runs until SIGINT/SIGTERM.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace muster::app {

struct ServeOptions {
  std::string data_dir = "./muster-data";
  std::string listen = "127.0.0.1:6200";
  std::string address;    // node address; default: first non-loopback IPv4
  std::string node_name;  // default: host name
  std::string game_ports = "7000-8000";
  std::string sdk_ports = "9400-11399";
  uint64_t log_max_bytes = 10 * 1024 * 1024;
  int io_threads = 0;  // 0 = one per core beyond the control thread, at least 1
  std::vector<std::string> apply;
  bool stop_on_exit = false;
  std::string log_level = "info";
  std::string cpu_policy = "batch";  // batch or normal: runtime::CpuPolicy for Muster's threads
  std::string cpu_idle = "sleep";    // sleep, or poll: runtime::KeepIdleCpusPolling while serving
  // PlayFab GSDK agent
  int gsdk_heartbeat_ms = 1000;  // nextHeartbeatIntervalMs
  std::string title_id = "muster";
  std::string region = "local";
};

void AddServeCommand(CLI::App& app, ServeOptions& options);
int RunServe(const ServeOptions& options);

}  // namespace muster::app
