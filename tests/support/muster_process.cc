#include "support/muster_process.h"

#include <cstdlib>

#include <arpa/inet.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <gtest/gtest.h>

#include "support/poll.h"

extern char** environ;

namespace muster::testing {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string FirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

api::http::verb Verb(const std::string& m) {
  if (m == "GET") return api::http::verb::get;
  if (m == "POST") return api::http::verb::post;
  if (m == "PUT") return api::http::verb::put;
  if (m == "PATCH") return api::http::verb::patch;
  return api::http::verb::delete_;
}

std::atomic<int> stop_on_signal_pid{0};

extern "C" void StopServeAndDie(int sig) {
  const int pid = stop_on_signal_pid.load();
  if (pid > 0) ::kill(pid, SIGTERM);
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

}  // namespace

int Spawn(const std::vector<std::string>& argv, const std::string& out_path,
          const std::string& err_path, const std::vector<std::string>& extra_env) {
  std::vector<std::string> env_s;
  for (char** e = environ; e && *e; ++e) env_s.push_back(*e);
  env_s.insert(env_s.end(), extra_env.begin(), extra_env.end());
  std::vector<char*> envp, args;
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_copy = argv;
  for (auto& a : argv_copy) args.push_back(a.data());
  args.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, args[0], &fa, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  return rc == 0 ? pid : -1;
}

void MusterProcess::StopOnSignals() const {
  stop_on_signal_pid.store(pid_);
  ::signal(SIGPIPE, SIG_IGN);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::signal(sig, StopServeAndDie);
}

MusterProcess::MusterProcess(ServeConfig config) : config_(std::move(config)) {
  const char* tmp = std::getenv("TMPDIR");  // honoured, as mkdtemp(3) users do
  std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/muster-test-XXXXXX";
  dir_ = ::mkdtemp(tmpl.data());
}

MusterProcess::~MusterProcess() {
  // A signal after this must not go to a pid that is reaped below and may be reused.
  int mine = pid_;
  stop_on_signal_pid.compare_exchange_strong(mine, 0);
  if (pid_ > 0) {
    for (const json& gs : GameServers()) {
      if (gs["status"].contains("pid")) seen_game_pids_.insert(gs["status"]["pid"].get<int>());
    }
    ::kill(pid_, SIGTERM);
    int status = 0;
    bool exited = PollUntil([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; }, 60s);
    if (!exited) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
    }
  }
  for (int p : seen_game_pids_)
    if (ProcessAlive(p)) ::kill(-p, SIGKILL);
  std::error_code ec;
  if (!::getenv("MUSTER_TEST_KEEP")) fs::remove_all(dir_, ec);
}

bool MusterProcess::Start() {
  fs::remove(dir_ + "/muster.addr");
  std::vector<std::string> argv = {
      MUSTER_BIN,    "serve",           "--data-dir",    dir_,
      "--listen",    "127.0.0.1:0",     "--game-ports",  config_.game_ports,
      "--sdk-ports", config_.sdk_ports, "--stop-on-exit"};
  argv.insert(argv.end(), config_.extra_args.begin(), config_.extra_args.end());
  if (std::find(argv.begin(), argv.end(), "--log-level") == argv.end())
    argv.insert(argv.end(), {"--log-level", "debug"});
  pid_ = Spawn(argv, dir_ + "/serve.out", dir_ + "/serve.log", {});
  if (pid_ <= 0) return false;
  client_.reset();
  bool up = PollUntil(
      [&] {
        if (addr().empty()) return false;
        return Raw("GET", "/healthz", "", "", false).status == 200;
      },
      30s);
  if (!up)
    std::cerr << "muster serve did not come up:\n" << ServeLog() << ReadFile(dir_ + "/serve.out");
  return up;
}

void MusterProcess::Kill9() {
  for (const json& gs : GameServers())
    if (gs["status"].contains("pid")) seen_game_pids_.insert(gs["status"]["pid"].get<int>());
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = 0;
  client_.reset();
}

std::string MusterProcess::addr() const { return FirstLine(dir_ + "/muster.addr"); }
std::string MusterProcess::token() const { return FirstLine(dir_ + "/admin.token"); }
std::string MusterProcess::ServeLog() const { return ReadFile(dir_ + "/serve.log"); }

api::HttpResult MusterProcess::Raw(const std::string& method, const std::string& target,
                                   const std::string& body, const std::string& content_type,
                                   bool with_token) {
  auto hp = api::ParseAddress(addr());
  if (!hp.ok()) return {};
  api::HttpClient client(hp->first, hp->second, with_token ? token() : "");
  auto res = client.Send(Verb(method), target, body, content_type);
  return res.ok() ? *res : api::HttpResult{};
}

json MusterProcess::Call(const std::string& method, const std::string& target, const json& body,
                         int* status) {
  if (!client_) {
    auto hp = api::ParseAddress(addr());
    if (!hp.ok()) return nullptr;
    client_ = std::make_unique<api::HttpClient>(hp->first, hp->second, token());
  }
  auto res = client_->Send(Verb(method), target, body.is_null() ? "" : body.dump());
  if (!res.ok()) {
    if (status) *status = 0;
    return nullptr;
  }
  if (status) *status = res->status;
  return json::parse(res->body, nullptr, false);
}

std::vector<json> MusterProcess::GameServers(const std::string& fleet) {
  if (pid_ <= 0) return {};
  int status = 0;
  json list =
      Call("GET", "/v1/gameservers" + (fleet.empty() ? "" : "?fleet=" + fleet), nullptr, &status);
  if (status != 200 || !list.contains("items")) return {};
  return list["items"].get<std::vector<json>>();
}

std::vector<json> MusterProcess::InState(const std::string& fleet, const std::string& state) {
  std::vector<json> out;
  for (json& gs : GameServers(fleet))
    if (gs["status"]["state"] == state && !gs["metadata"].contains("deletionTimestamp"))
      out.push_back(std::move(gs));
  return out;
}

int MusterProcess::Cli(const std::vector<std::string>& args, std::string* out, std::string* err) {
  std::vector<std::string> argv = {MUSTER_BIN, "--data-dir", dir_};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, out, err);
}

json ExternalServer(const std::string& name, int port, const json& labels,
                    const std::string& fleet) {
  json gs = {{"apiVersion", "muster.dev/v1"},
             {"kind", "GameServer"},
             {"metadata", {{"name", name}, {"labels", labels}}},
             {"spec",
              {{"external",
                {{"address", "10.1.0.1"},
                 {"ports", json::array({{{"name", "game"}, {"port", port}}})}}}}}};
  if (!fleet.empty()) gs["spec"]["fleet"] = fleet;
  return gs;
}

void RegisterPool(MusterProcess& m, const std::string& pool, int n, int first_port) {
  for (int i = 0; i < n; ++i) {
    int status = 0;
    m.Call("POST", "/v1/gameservers",
           ExternalServer(pool + "-" + std::to_string(i), first_port + i, {{"pool", pool}}),
           &status);
    ASSERT_EQ(status, 201);
  }
  ASSERT_TRUE(PollUntil([&] { return static_cast<int>(m.InState("", "Ready").size()) >= n; },
                        std::chrono::seconds(30)));
}

json EchoFleet(const std::string& name, int replicas, const json& health) {
  json fleet = {
      {"apiVersion", "muster.dev/v1"},
      {"kind", "Fleet"},
      {"metadata", {{"name", name}}},
      {"spec",
       {{"replicas", replicas},
        {"template",
         {{"metadata", {{"labels", {{"game", "echo"}}}}},
          {"spec",
           {{"ports",
             json::array({{{"name", "game"}, {"portPolicy", "Dynamic"}, {"protocol", "UDP"}}})},
            {"template",
             {{"spec",
               {{"terminationGracePeriodSeconds", 5},
                {"containers",
                 json::array({{{"name", "echo"},
                               {"command", json::array({MUSTER_ECHO_BIN})},
                               {"env", json::array({{{"name", "ECHO_HEALTH_INTERVAL_MS"},
                                                     {"value", "300"}}})}}})}}}}}}}}}}}};
  if (!health.is_null()) fleet["spec"]["template"]["spec"]["health"] = health;
  return fleet;
}

bool ProcessAlive(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!in || !std::getline(in, line)) return false;
  size_t close = line.rfind(')');
  if (close == std::string::npos || close + 2 >= line.size()) return false;
  char state = line[close + 2];
  return state != 'Z' && state != 'X';
}

bool UdpEcho(int port, const std::string& payload, int timeout_ms) {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(port));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = false;
  if (::sendto(fd, payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&to),
               sizeof to) == static_cast<ssize_t>(payload.size())) {
    char buf[2048];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    ok = n == static_cast<ssize_t>(payload.size()) && std::string(buf, n) == payload;
  }
  ::close(fd);
  return ok;
}

std::optional<int> CpuWakeLatencyUs() {
  const int fd = ::open("/dev/cpu_dma_latency", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  int32_t us = 0;
  const bool read_all = ::read(fd, &us, sizeof us) == sizeof us;
  ::close(fd);
  return read_all ? std::optional<int>(us) : std::nullopt;
}

int RunCommand(const std::vector<std::string>& argv, std::string* out, std::string* err,
               const std::vector<std::string>& env) {
  char tmpl[] = "/tmp/muster-cmd-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  int pid = Spawn(argv, dir + "/out", dir + "/err", env);
  int status = 0;
  if (pid > 0) ::waitpid(pid, &status, 0);
  if (out) *out = ReadFile(dir + "/out");
  if (err) *err = ReadFile(dir + "/err");
  std::error_code ec;
  fs::remove_all(dir, ec);
  return pid > 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace muster::testing
