#include "app/serve.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <thread>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "api/allocation_routes.h"
#include "api/http_client.h"
#include "api/http_server.h"
#include "api/management_routes.h"
#include "app/manifests.h"
#include "control/controller.h"
#include "runtime/host.h"
#include "runtime/process_runtime.h"
#include "sdk/sdk_servers.h"
#include "store/sqlite_store.h"

namespace muster::app {
namespace fs = std::filesystem;
namespace asio = boost::asio;

namespace {

class SystemClock : public core::Clock {
 public:
  core::TimeMs Now() const override { return runtime::NowMs(); }
  core::TimeMs MonotonicMs() const override { return runtime::MonotonicMs(); }
};

std::optional<core::PortRange> ParseRange(const std::string& s) {
  int a = 0, b = 0;
  char dash = 0;
  if (std::sscanf(s.c_str(), "%d%c%d", &a, &dash, &b) != 3 || dash != '-') return std::nullopt;
  if (a < 1 || b > 65535 || a > b) return std::nullopt;
  return core::PortRange{a, b};
}

bool Overlap(core::PortRange x, core::PortRange y) {
  return x.first <= y.last && y.first <= x.last;
}

// Every problem with the options, at once.
std::vector<std::string> Check(const ServeOptions& o) {
  std::vector<std::string> problems;
  auto game = ParseRange(o.game_ports);
  auto sdk = ParseRange(o.sdk_ports);
  if (!game)
    problems.push_back("--game-ports: must be FIRST-LAST within 1-65535, got \"" + o.game_ports +
                       "\"");
  if (!sdk)
    problems.push_back("--sdk-ports: must be FIRST-LAST within 1-65535, got \"" + o.sdk_ports +
                       "\"");
  if (game && sdk && Overlap(*game, *sdk))
    problems.push_back("--game-ports and --sdk-ports overlap");
  if (sdk && sdk->size() < 2)
    problems.push_back("--sdk-ports: needs at least 2 ports (one pair per server)");
  auto listen = api::ParseAddress(o.listen);
  if (!listen.ok()) {
    problems.push_back("--listen: " + listen.status().message());
  } else {
    for (auto r : {game, sdk})
      if (r && r->contains(listen->second))
        problems.push_back("--listen: port " + std::to_string(listen->second) +
                           " lies in a game or SDK port range");
  }
  if (o.log_max_bytes < 4096) problems.push_back("--log-max-bytes: must be at least 4096");
  if (o.io_threads < 0) problems.push_back("--io-threads: must not be negative");
  if (!runtime::ParseCpuPolicy(o.cpu_policy))
    problems.push_back("--cpu-policy: batch or normal, got \"" + o.cpu_policy + "\"");
  if (o.cpu_idle != "sleep" && o.cpu_idle != "poll")
    problems.push_back("--cpu-idle: sleep or poll, got \"" + o.cpu_idle + "\"");
  if (o.gsdk_heartbeat_ms < 1000 || o.gsdk_heartbeat_ms > 60000)
    problems.push_back("--gsdk-heartbeat-interval: milliseconds within 1000-60000");
  if (o.title_id.empty()) problems.push_back("--title-id: must not be empty");
  if (o.region.empty()) problems.push_back("--region: must not be empty");
  if (!o.node_name.empty() && !core::IsValidName(o.node_name))
    problems.push_back("--node-name: must be a DNS label (lower-case letters, digits, '-')");
  if (spdlog::level::from_str(o.log_level) == spdlog::level::off && o.log_level != "off")
    problems.push_back("--log-level: one of trace, debug, info, warn, error, off");
  for (const auto& f : o.apply)
    if (!fs::exists(f)) problems.push_back("--apply: no such file " + f);
  return problems;
}

// The admin token: read from the data dir, or generated there (mode 0600) on first start.
core::StatusOr<std::string> LoadOrCreateToken(const std::string& path) {
  std::ifstream in(path);
  std::string token;
  if (in && std::getline(in, token) && !token.empty()) return token;
  unsigned char raw[32];
  std::ifstream urandom("/dev/urandom", std::ios::binary);
  if (!urandom.read(reinterpret_cast<char*>(raw), sizeof raw))
    return core::Status(core::Code::kInternal, "cannot read /dev/urandom");
  static const char* hex = "0123456789abcdef";
  token = "mst_";
  for (unsigned char c : raw) {
    token += hex[c >> 4];
    token += hex[c & 15];
  }
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return core::Status(core::Code::kInternal, "cannot write " + path);
  std::string line = token + "\n";
  bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  ::fsync(fd);
  ::close(fd);
  if (!ok) return core::Status(core::Code::kInternal, "cannot write " + path);
  return token;
}

void RaiseFileLimit() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &lim);
  }
}

// Runs `f` on the owner thread and waits for it.
template <typename F>
auto OnOwner(asio::io_context& owner, F f) {
  std::packaged_task<decltype(f())()> task(std::move(f));
  auto result = task.get_future();
  asio::post(owner, [&task] { task(); });
  return result.get();
}

}  // namespace

void AddServeCommand(CLI::App& app, ServeOptions& o) {
  CLI::App* serve = app.add_subcommand(
      "serve", "Run Muster in embedded mode: SQLite state, game servers as local processes");
  serve->add_option("--data-dir", o.data_dir, "Where state, logs and the admin token live")
      ->capture_default_str()
      ->envname("MUSTER_DATA_DIR");
  serve->add_option("--listen", o.listen, "Management API address (HOST:PORT)")
      ->capture_default_str();
  serve->add_option("--address", o.address,
                    "Address players reach this node at (default: first non-loopback IPv4)");
  serve->add_option("--node-name", o.node_name, "This node's name (default: the host name)");
  serve->add_option("--game-ports", o.game_ports, "Host port range for game ports")
      ->capture_default_str();
  serve->add_option("--sdk-ports", o.sdk_ports, "Port range for per-server SDK ports (loopback)")
      ->capture_default_str();
  serve->add_option("--log-max-bytes", o.log_max_bytes, "Cap on each game server's log file")
      ->capture_default_str();
  serve->add_option("--io-threads", o.io_threads, "HTTP threads (0 = one per spare core)");
  serve->add_option("--apply", o.apply, "Apply this manifest file at start (repeatable)");
  serve->add_flag("--stop-on-exit", o.stop_on_exit,
                  "On SIGINT/SIGTERM also stop every game server (default: they keep running "
                  "and the next start re-adopts them)");
  serve->add_option("--log-level", o.log_level, "trace, debug, info, warn, error, off")
      ->capture_default_str();
  serve
      ->add_option("--cpu-policy", o.cpu_policy,
                   "CPU scheduling of Muster's own threads: batch (a woken thread does not "
                   "preempt the running one: fewer context switches, and game servers keep "
                   "their CPU) or normal (the kernel's default). Game servers always run at "
                   "normal")
      ->capture_default_str();
  serve
      ->add_option("--cpu-idle", o.cpu_idle,
                   "What this machine's idle CPUs do while Muster serves: sleep (the kernel's "
                   "choice) or poll (they spin instead of halting, so a woken thread runs at "
                   "once; on a VM the hypervisor need not wake a halted vCPU first). poll costs "
                   "the idle CPU time, machine-wide, and needs root")
      ->capture_default_str();
  serve
      ->add_option("--gsdk-heartbeat-interval", o.gsdk_heartbeat_ms,
                   "PlayFab GSDK servers: heartbeat interval asked for, in ms (1000-60000)")
      ->capture_default_str();
  serve->add_option("--title-id", o.title_id, "PlayFab GSDK servers: their PF_TITLE_ID")
      ->capture_default_str();
  serve->add_option("--region", o.region, "PlayFab GSDK servers: their PF_REGION")
      ->capture_default_str();
}

int RunServe(const ServeOptions& o) {
  if (auto problems = Check(o); !problems.empty()) {
    for (const auto& p : problems) std::cerr << "muster serve: " << p << "\n";
    return 2;
  }
  spdlog::set_default_logger(spdlog::stderr_color_mt("muster"));  // stdout is for the banner
  spdlog::set_level(spdlog::level::from_str(o.log_level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  ::signal(SIGPIPE, SIG_IGN);
  RaiseFileLimit();
  // Before any thread starts (the store's checkpointer included): they all inherit it.
  if (core::Status s = runtime::SetThreadCpuPolicy(*runtime::ParseCpuPolicy(o.cpu_policy)); !s.ok())
    spdlog::warn("--cpu-policy {}: {}; running at the kernel's default", o.cpu_policy, s.message());
  // Held until this function returns; the kernel withdraws it if the process dies.
  struct HeldFd {
    int fd = -1;
    ~HeldFd() {
      if (fd >= 0) ::close(fd);
    }
  } polling;
  if (o.cpu_idle == "poll") {
    if (auto fd = runtime::KeepIdleCpusPolling(); fd.ok()) {
      polling.fd = *fd;
      spdlog::info("idle CPUs poll instead of sleeping while Muster serves (--cpu-idle poll)");
    } else {
      spdlog::warn("--cpu-idle poll: {}; idle CPUs sleep", fd.status().message());
    }
  }

  std::error_code ec;
  fs::create_directories(o.data_dir, ec);
  ::chmod(o.data_dir.c_str(), 0700);
  const std::string dir = fs::absolute(o.data_dir).lexically_normal().string();
  int lock_fd = ::open((dir + "/muster.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd < 0 || ::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    std::cerr << "muster serve: " << dir << " is in use by another muster serve\n";
    return 1;
  }
  auto token = LoadOrCreateToken(dir + "/admin.token");
  if (!token.ok()) {
    std::cerr << "muster serve: " << token.status().message() << "\n";
    return 1;
  }
  auto store =
      store::SqliteStore::Open(dir + "/muster.db", store::SqliteStore::SyncMode::kDeferred);
  if (!store.ok()) {
    std::cerr << "muster serve: " << store.status().message() << "\n";
    return 1;
  }

  // Declared first, destroyed last: handlers still queued on the owner and syncer when
  // they stop may hold HTTP connections (a listing in progress), whose sockets need `io`.
  asio::io_context io;         // HTTP: management API and SDK endpoints
  asio::io_context owner(1);   // the control loop: World, reconcilers, runtime, SQLite writes
  asio::io_context syncer(1);  // flushes the WAL while the next batch is written
  auto owner_work = asio::make_work_guard(owner);
  auto syncer_work = asio::make_work_guard(syncer);
  auto io_work = asio::make_work_guard(io);

  SystemClock clock;
  runtime::ProcessRuntime::Options rt;
  rt.log_dir = dir + "/logs";
  rt.log_max_bytes = o.log_max_bytes;
  // What a crash left unrecorded is found by this at the next start: one spelling per dir.
  std::error_code canon_ec;
  const fs::path canon = fs::canonical(dir, canon_ec);
  rt.instance = canon_ec ? dir : canon.string();
  if (auto exe_dir = runtime::ExecutableDir(); !exe_dir.empty())
    rt.extra_path_dirs.push_back(exe_dir);
  runtime::ProcessRuntime runtime(owner, rt);

  control::TokenTable tokens;
  control::ControllerOptions copts;
  copts.tokens = &tokens;
  copts.node.name = o.node_name.empty() ? runtime::HostName() : o.node_name;
  copts.node.address = o.address.empty() ? runtime::FirstNonLoopbackIPv4() : o.address;
  copts.game_ports = *ParseRange(o.game_ports);
  copts.sdk_ports = *ParseRange(o.sdk_ports);
  control::Controller controller(owner, syncer, **store, runtime, clock, runtime::PortInUse, copts);
  sdk::GsdkOptions gsdk{dir + "/gsdk", o.title_id, o.region, o.gsdk_heartbeat_ms};
  if (core::Status s = sdk::PrepareGsdkDir(gsdk); !s.ok()) {
    std::cerr << "muster serve: " << s.message() << "\n";
    return 1;
  }
  sdk::SdkServers sdk_servers(io, controller, gsdk);

  std::thread owner_thread([&] { runtime::RunLoop(owner, "muster-owner"); });
  std::thread syncer_thread([&] { runtime::RunLoop(syncer, "muster-sync"); });
  const int n_io = o.io_threads > 0
                       ? o.io_threads
                       : std::max(1, static_cast<int>(std::thread::hardware_concurrency()) - 1);
  std::vector<std::thread> io_threads;
  for (int i = 0; i < n_io; ++i)
    io_threads.emplace_back([&] { runtime::RunLoop(io, "muster-io"); });
  auto stop_all = [&] {
    sdk_servers.Shutdown();  // while the owner thread still answers calls in flight
    owner_work.reset();
    io_work.reset();
    owner.stop();
    io.stop();
    owner_thread.join();  // a batch being written is written first
    syncer_work.reset();
    syncer.stop();  // after the owner: a flush under way finishes first
    syncer_thread.join();
    for (auto& t : io_threads) t.join();
  };

  if (core::Status s = OnOwner(owner, [&] { return controller.Start(&sdk_servers); }); !s.ok()) {
    std::cerr << "muster serve: " << s.message() << "\n";
    stop_all();
    return 1;
  }

  api::Authenticator auth(*token, &tokens);
  std::vector<api::Route> routes = api::ManagementRoutes(controller);
  for (auto more : {api::AllocationRoutes(controller), api::TokenRoutes(controller)})
    routes.insert(routes.end(), more.begin(), more.end());
  api::Router router(std::move(routes), &auth);
  auto listen = *api::ParseAddress(o.listen);
  auto http =
      api::HttpServer::Listen(io, {listen.first, listen.second, 1 << 20}, router.AsHandler());
  if (!http.ok()) {
    std::cerr << "muster serve: " << http.status().message() << "\n";
    stop_all();
    return 1;
  }
  const std::string api_addr = listen.first + ":" + std::to_string((*http)->port());
  {
    std::ofstream addr_file(dir + "/muster.addr", std::ios::trunc);
    addr_file << api_addr << "\n";
  }
  spdlog::info("node {} at {}; game ports {}, SDK ports {}", copts.node.name, copts.node.address,
               o.game_ports, o.sdk_ports);
  const std::string exe_dir = runtime::ExecutableDir();
  const std::string cli = exe_dir.empty() ? "muster" : exe_dir + "/muster";
  std::cout << "Muster is serving.\n"
            << "  API:         http://" << api_addr << "\n"
            << "  admin token: " << dir << "/admin.token\n"
            << "  data dir:    " << dir << "\n"
            << "  try:         " << cli << " --data-dir " << dir << " get gameservers -o wide\n"
            << std::flush;

  for (const auto& file : o.apply) {
    if (int rc =
            ApplyFile(file, [&](const ManifestObject& m) { return ApplyInProcess(controller, m); });
        rc != 0) {
      stop_all();
      return rc;
    }
  }

  asio::signal_set signals(owner, SIGINT, SIGTERM);
  std::promise<void> stopped;
  signals.async_wait([&](const boost::system::error_code&, int sig) {
    if (!o.stop_on_exit) {
      spdlog::info("signal {}: stopping Muster; game servers keep running", sig);
      stopped.set_value();
      return;
    }
    spdlog::info("signal {}: stopping every game server, then Muster (--stop-on-exit)", sig);
    controller.StopAllProcesses([&] { stopped.set_value(); });
  });
  stopped.get_future().wait();
  (*http)->Close();
  stop_all();
  spdlog::info("stopped");
  return 0;
}

}  // namespace muster::app
