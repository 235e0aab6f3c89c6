// Allocation load generator.
//
//   build/bin/bench_alloc [--mode handback|registered] [--door native|agones|thundernetes]
//                         [--connections 64] [--seconds 10] [--pool N] [--io-threads N]
//                         [--runs N]
//   (--help lists the flags and their defaults)
//
// It starts its own `muster serve` (fresh data dir). N keep-alive connections allocate
// as fast as the answers come. Two ways to sustain a run, as issue #3 allows:
//   handback   (default) a fleet of --pool (1000) muster-echo processes; each allocated
//              server is handed back (POST /ready on its own SDK port, as a game server
//              ending a match does), so a fixed pool lasts any duration;
//   registered --pool (100000) process-less servers registered first (`register
//              --no-sdk`); each is allocated once, nothing is handed back.
// Either way every allocation takes the durable path of production.
//
// BENCH_LOG=debug also prints Muster's log at the end (commit rates and batch sizes).
//
// Prints, as one JSON line on stdout, throughput, latency percentiles, 429s, errors and
// duplicates (a server handed out again before it was handed back), and under "cpu" the CPU time
// per allocation over the run: the machine's, and each thread's of Muster and of this generator
// (bench/cpu_sample.h). One load client shares the 2 cores with Muster: the numbers include that
// cost. A summary for people goes to stderr, with whether the run met the target (issue #3's
// by default: >= 20,000 allocations/s with p99 < 5 ms). --runs N measures N times, a fresh
// serve and pool each time (unless --addr), and ends with one more JSON line: the median and spread
// of the runs' throughput and p99, and how many met the target.

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include <CLI/CLI.hpp>
#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "alloc_report.h"
#include "cpu_sample.h"
#include "runtime/host.h"
#include "serve_flags.h"
#include "support/muster_process.h"
#include "support/poll.h"
#include "support/raw_http.h"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;
using nlohmann::json;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

struct Options {
  std::string mode = "handback";
  std::string door = "native";
  int connections = 64;
  double seconds = 10;
  int pool = 0;  // 0 = the mode's default
  std::string addr;
  std::string token;
  muster::bench::ServeFlags serve;  // also the load generator's CPU policy
  int runs = 1;
  muster::bench::AllocTarget target;
};

struct Stats {
  std::vector<double> latencies_ms;
  long ok = 0, exhausted = 0, errors = 0, duplicates = 0, returns = 0, return_errors = 0;
  std::unordered_set<std::string> in_use;  // allocated and not yet handed back
};

std::string Target(const Options& o) {
  if (o.door == "agones") return "/gameserverallocation";
  if (o.door == "thundernetes") return "/api/v1/allocate";
  return "/v1/allocations";
}

std::string Uuid(uint64_t a, uint64_t b) {
  char buf[40];
  std::snprintf(
      buf, sizeof buf, "%08llx-%04llx-4%03llx-8%03llx-%012llx",
      static_cast<unsigned long long>(a >> 32), static_cast<unsigned long long>((a >> 16) & 0xffff),
      static_cast<unsigned long long>(a & 0xfff), static_cast<unsigned long long>(b >> 48 & 0xfff),
      static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

std::string Body(const Options& o, const std::string& build_id, int worker, long n) {
  if (o.mode == "registered") {  // written directly: this runs on the measured cores
    if (o.door == "agones")
      return R"({"namespace":"default","gameServerSelectors":[{"matchLabels":{"pool":"bench"}}]})";
    return R"({"selectors":[{"matchLabels":{"pool":"bench"}}],"sessionId":"w)" +
           std::to_string(worker) + "-" + std::to_string(n) + "\"}";
  }
  if (o.door == "agones")
    return R"({"namespace":"default","gameServerSelectors":[{"matchLabels":{"agones.dev/fleet":"bench"}}]})";
  if (o.door == "thundernetes")
    return json{{"buildID", build_id},
                {"sessionID", Uuid(static_cast<uint64_t>(worker) << 40 | 0xbe11, n)}}
        .dump();
  return json{{"fleet", "bench"},
              {"sessionId", "w" + std::to_string(worker) + "-" + std::to_string(n)}}
      .dump();
}

// The string value of `"key":"..."` in a compact JSON answer, without parsing all of
// it ("" if absent). For the registered mode's hot loop; names hold no quotes.
std::string QuickField(const std::string& body, const std::string& key) {
  const std::string needle = "\"" + key + "\":\"";
  const size_t at = body.find(needle);
  if (at == std::string::npos) return "";
  const size_t from = at + needle.size();
  const size_t to = body.find('"', from);
  return to == std::string::npos ? "" : body.substr(from, to - from);
}

// The server name in an answer, whatever the door.
std::string ServerOf(const Options& o, const json& answer,
                     const std::map<std::string, std::string>& by_address) {
  if (o.door == "agones") return answer.value("gameServerName", "");
  if (o.door == "thundernetes") {  // no name in Thundernetes' answer: the port identifies it
    std::string ports = answer.value("Ports", "");
    auto it = by_address.find(ports.substr(ports.find(':') + 1));
    return it == by_address.end() ? "" : it->second;
  }
  return answer.value("gameServer", "");
}

class Load {
 public:
  Load(asio::io_context& io, Options o, std::string host, int port, std::string build_id,
       std::map<std::string, int> sdk_ports, std::map<std::string, std::string> by_game_port)
      : io_(io),
        o_(std::move(o)),
        host_(std::move(host)),
        port_(port),
        build_id_(std::move(build_id)),
        sdk_ports_(std::move(sdk_ports)),
        by_game_port_(std::move(by_game_port)) {}

  void Run() {
    end_ = Clock::now() +
           std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o_.seconds));
    if (o_.mode == "registered") return RunEpoll();
    for (int i = 0; i < o_.connections; ++i) asio::co_spawn(io_, Worker(i), asio::detached);
    started_ = Clock::now();
    io_.run();
    elapsed_ = std::chrono::duration<double>(Clock::now() - started_).count();
  }

  long allocations() const { return stats_.ok; }

  json Report(const json& cpu) {
    auto& l = stats_.latencies_ms;
    std::sort(l.begin(), l.end());
    auto pct = [&](double p) {
      return l.empty() ? 0.0 : l[std::min(l.size() - 1, static_cast<size_t>(p * l.size()))];
    };
    json out = {{"benchmark", "alloc"},
                {"mode", o_.mode},
                {"door", o_.door},
                {"connections", o_.connections},
                {"cpu_policy", o_.serve.cpu_policy},
                {"cpu_idle", o_.serve.cpu_idle},
                {"seconds", elapsed_},
                {"allocations", stats_.ok},
                {"allocations_per_s", stats_.ok / elapsed_},
                {"p50_ms", pct(0.50)},
                {"p99_ms", pct(0.99)},
                {"p999_ms", pct(0.999)},
                {"max_ms", l.empty() ? 0 : l.back()},
                {"exhausted_429", stats_.exhausted},
                {"errors", stats_.errors},
                {"duplicates", stats_.duplicates},
                {"returns", stats_.returns},
                {"return_errors", stats_.return_errors},
                {"cpu", cpu}};
    out["met_target"] = muster::bench::MeetsTarget(o_.target, out);
    std::cout << out.dump() << std::endl;
    muster::bench::PrintRunSummary(o_.target, out);
    return out;
  }

 private:
  // The registered mode's load (Muster on 127.0.0.1): every connection sends one
  // allocation and waits for its answer before the next, all on this thread
  // (DriveClosedLoop, as wrk does), lighter on the shared cores than Beast coroutines.
  void RunEpoll() {
    const std::string head = "POST " + Target(o_) + " HTTP/1.1\r\nHost: " + host_ +
                             "\r\nAuthorization: Bearer " + o_.token +
                             "\r\nContent-Type: application/json\r\nContent-Length: ";
    std::vector<long> sent(o_.connections, 0);
    stats_.in_use.reserve(size_t{1} << 18);  // no rehash under way: this runs on the measured cores
    stats_.latencies_ms.reserve(size_t{1} << 18);
    const std::string field = o_.door == "agones" ? "gameServerName" : "gameServer";
    started_ = Clock::now();
    const bool ok = muster::testing::DriveClosedLoop(
        std::vector<int>(o_.connections, port_), end_,
        [&](size_t i) {
          std::string body = Body(o_, build_id_, static_cast<int>(i), sent[i]++);
          return head + std::to_string(body.size()) + "\r\n\r\n" + body;
        },
        [&](size_t, const muster::testing::RawAnswer& a, double ms) {
          if (a.status == 200 || a.status == 201) {
            stats_.latencies_ms.push_back(ms);
            ++stats_.ok;
            std::string server = QuickField(a.body, field);
            if (server.empty()) {
              if (stats_.errors++ < 3) std::cerr << "no server named in: " << a.body;
            } else if (!stats_.in_use.insert(std::move(server)).second) {
              ++stats_.duplicates;
            }
          } else if (a.status == 429) {
            ++stats_.exhausted;
          } else if (stats_.errors++ < 3) {
            std::cerr << "HTTP " << a.status << ": " << a.body;
          }
        });
    if (!ok) ++stats_.errors;
    elapsed_ = std::chrono::duration<double>(Clock::now() - started_).count();
  }

  awaitable<void> Worker(int id) {
    beast::tcp_stream stream(io_);
    co_await stream.async_connect(tcp::endpoint(asio::ip::make_address(host_), port_),
                                  use_awaitable);
    stream.socket().set_option(tcp::no_delay(true));
    beast::flat_buffer buf;
    for (long n = 0; Clock::now() < end_; ++n) {
      http::request<http::string_body> req{http::verb::post, Target(o_), 11};
      req.set(http::field::host, host_);
      req.set(http::field::authorization, "Bearer " + o_.token);
      req.set(http::field::content_type, "application/json");
      req.body() = Body(o_, build_id_, id, n);
      req.keep_alive(true);
      req.prepare_payload();
      auto t0 = Clock::now();
      co_await http::async_write(stream, req, use_awaitable);
      http::response<http::string_body> res;
      co_await http::async_read(stream, buf, res, use_awaitable);
      double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      int status = res.result_int();
      if (status == 200 || status == 201) {
        stats_.latencies_ms.push_back(ms);
        ++stats_.ok;
        std::string server = ServerOf(o_, json::parse(res.body(), nullptr, false), by_game_port_);
        if (!stats_.in_use.insert(server).second) ++stats_.duplicates;
        if (o_.mode == "handback") asio::co_spawn(io_, HandBack(server), asio::detached);
      } else if (status == 429) {
        ++stats_.exhausted;
      } else {
        if (stats_.errors++ < 3) std::cerr << "HTTP " << status << ": " << res.body();
      }
    }
  }

  // POST /ready on the server's own SDK port: Allocated -> Ready, the session is over.
  awaitable<void> HandBack(std::string server) {
    auto it = sdk_ports_.find(server);
    if (it == sdk_ports_.end()) {
      if (stats_.return_errors++ < 3) std::cerr << "no SDK port known for \"" << server << "\"\n";
      co_return;
    }
    // From the moment /ready is sent Muster may hand the server out again, so it is no
    // longer "in use" here: a duplicate is a second answer before this point. That next
    // hand-back may start before this one's answer is read, so each takes a connection
    // of its own from the server's pool (two must never share one stream).
    stats_.in_use.erase(server);
    auto& pool = sdk_conns_[server];
    std::unique_ptr<beast::tcp_stream> conn;
    if (!pool.empty()) {
      conn = std::move(pool.back());
      pool.pop_back();
    }
    try {
      if (!conn) {
        conn = std::make_unique<beast::tcp_stream>(io_);
        co_await conn->async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), it->second),
                                     use_awaitable);
      }
      http::request<http::string_body> req{http::verb::post, "/ready", 11};
      req.set(http::field::host, "localhost");
      req.body() = "{}";
      req.keep_alive(true);
      req.prepare_payload();
      co_await http::async_write(*conn, req, use_awaitable);
      beast::flat_buffer buf;
      http::response<http::string_body> res;
      co_await http::async_read(*conn, buf, res, use_awaitable);
      if (res.result_int() == 200)
        ++stats_.returns;
      else
        ++stats_.return_errors;
      sdk_conns_[server].push_back(std::move(conn));
    } catch (const std::exception& e) {
      if (stats_.return_errors++ < 3)
        std::cerr << "hand-back of " << server << ": " << e.what() << "\n";
    }
  }

  asio::io_context& io_;
  Options o_;
  std::string host_;
  int port_;
  std::string build_id_;
  std::map<std::string, int> sdk_ports_;
  std::map<std::string, std::string> by_game_port_;
  std::map<std::string, std::vector<std::unique_ptr<beast::tcp_stream>>> sdk_conns_;  // idle ones
  Stats stats_;
  Clock::time_point end_, started_;
  double elapsed_ = 0;
};

// One measurement: starts its own `muster serve` and pool (unless --addr), drives the
// load, and prints the run's JSON line and summary. The run's report, or nullopt (having
// said why) when it could not be measured.
std::optional<json> MeasureOnce(Options o) {
  const std::string build_id = "6a4f8c1e-0b7d-4e2a-9c3f-5d1e2b3a4c5d";
  std::unique_ptr<muster::testing::MusterProcess> own;
  if (o.addr.empty()) {
    const std::vector<std::string> serve_args =
        o.serve.Args(getenv("BENCH_LOG") ? getenv("BENCH_LOG") : "warn");
    own = std::make_unique<muster::testing::MusterProcess>(
        muster::testing::ServeConfig{"30000-31999", "32000-35999", serve_args});
    if (!own->Start()) return std::nullopt;
    own->StopOnSignals();  // Ctrl-C or `| head` must not leave the server running
    o.addr = own->addr();
    o.token = own->token();
    if (o.mode == "handback") {
      json fleet = muster::testing::EchoFleet("bench", o.pool);
      fleet["spec"]["buildID"] = build_id;
      fleet["spec"]["template"]["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"] =
          "2000";
      int status = 0;
      own->Call("POST", "/v1/fleets", fleet, &status);
      if (status != 201) return std::nullopt;
      std::cerr << "waiting for " << o.pool << " Ready echo servers...\n";
      if (!muster::testing::PollUntil(
              [&] {
                return own->Call("GET", "/v1/fleets/bench")["status"].value("readyReplicas", 0) >=
                       o.pool;
              },
              120s, 100ms))
        return std::nullopt;
    } else {
      std::cerr << "registering " << o.pool << " process-less servers...\n";
      auto t0 = Clock::now();
      std::vector<std::thread> registrars;
      std::atomic<int> failed{0};
      // Each registration waits for its durable commit: many in flight make big batches.
      constexpr int kRegistrars = 32;
      for (int t = 0; t < kRegistrars; ++t) {
        registrars.emplace_back([&, t] {
          auto hp = muster::api::ParseAddress(o.addr).value();
          muster::api::HttpClient c(hp.first, hp.second, o.token);
          for (int i = t; i < o.pool; i += kRegistrars) {
            json gs = muster::testing::ExternalServer("pool-" + std::to_string(i),
                                                      10000 + i % 50000, {{"pool", "bench"}});
            gs["spec"]["external"]["sdk"] = false;
            auto r = c.Send(http::verb::post, "/v1/gameservers", gs.dump());
            if (!r.ok() || r->status != 201) ++failed;
          }
        });
      }
      for (auto& r : registrars) r.join();
      if (failed) {
        std::cerr << failed << " registrations failed\n";
        return std::nullopt;
      }
      if (!muster::testing::PollUntil(
              [&] {
                muster::api::HttpClient c(muster::api::ParseAddress(o.addr)->first,
                                          muster::api::ParseAddress(o.addr)->second, o.token);
                auto r =
                    c.Send(http::verb::get, "/v1/gameservers/pool-" + std::to_string(o.pool - 1));
                return r.ok() && json::parse(r->body, nullptr, false)
                                         .value("status", json::object())
                                         .value("state", "") == "Ready";
              },
              60s, 50ms))
        return std::nullopt;
      std::cerr << "registered in " << std::chrono::duration<double>(Clock::now() - t0).count()
                << " s\n";
    }
  }
  auto hp = muster::api::ParseAddress(o.addr).value();
  muster::api::HttpClient client(hp.first, hp.second, o.token);
  auto list = client.Send(http::verb::get, "/v1/gameservers?fleet=bench");
  if (o.mode == "handback" && (!list.ok() || list->status != 200)) {
    std::cerr << "cannot list the bench fleet's servers\n";
    return std::nullopt;
  }
  std::map<std::string, int> sdk_ports;
  std::map<std::string, std::string> by_game_port;
  const json listed = json::parse(list->body);
  for (const json& gs : listed["items"]) {
    std::string name = gs["metadata"]["name"];
    sdk_ports[name] = gs["status"]["sdkPorts"]["http"];
    if (!gs["status"]["ports"].empty())
      by_game_port[std::to_string(gs["status"]["ports"][0]["port"].get<int>())] = name;
  }
  std::cerr << "pool: " << sdk_ports.size() << " servers\n";
  asio::io_context io(1);
  Load load(io, o, hp.first, hp.second, build_id, std::move(sdk_ports), std::move(by_game_port));
  std::vector<int> watched = {::getpid()};
  if (own) watched.push_back(own->serve_pid());
  if (auto s =
          muster::runtime::SetThreadCpuPolicy(*muster::runtime::ParseCpuPolicy(o.serve.cpu_policy));
      !s.ok())
    std::cerr << "--cpu-policy " << o.serve.cpu_policy << ": " << s.message() << "\n";
  const auto cpu_before = muster::bench::CpuSample::Take(watched);
  load.Run();
  json report =
      load.Report(muster::bench::CpuSample::Take(watched).Since(cpu_before, load.allocations()));
  if (own) {  // resident memory of the control plane with the whole pool tracked
    if (getenv("BENCH_LOG")) std::cerr << own->ServeLog();
    std::ifstream in("/proc/" + std::to_string(own->serve_pid()) + "/status");
    for (std::string line; std::getline(in, line);)
      if (line.rfind("VmRSS:", 0) == 0)
        std::cout << json{{"muster_rss_mib", std::stod(line.substr(6)) / 1024.0},
                          {"servers", o.pool}}
                         .dump()
                  << std::endl;
  }
  return report;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{
      "Allocation load: N keep-alive connections allocate from a muster serve it starts "
      "(or --addr), and it prints throughput, latency, errors, duplicates and CPU per "
      "allocation as one JSON line on stdout, with a summary on stderr"};
  app.add_option("--mode", o.mode,
                 "handback: a fleet of echo processes, each allocated server handed back; "
                 "registered: process-less servers, each allocated once")
      ->check(CLI::IsMember({"handback", "registered"}))
      ->capture_default_str();
  app.add_option("--door", o.door, "The allocation API to drive")
      ->check(CLI::IsMember({"native", "agones", "thundernetes"}))
      ->capture_default_str();
  app.add_option("--connections", o.connections, "Concurrent keep-alive connections")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--seconds", o.seconds, "Length of the measured run")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--pool", o.pool,
                 "Servers to allocate from (default: 1000 handback, 100000 registered)")
      ->check(CLI::Range(1, 10000000));
  app.add_option("--addr", o.addr,
                 "HOST:PORT of a running muster serve (default: start one); the registered mode "
                 "allocates its servers labelled pool=bench");
  app.add_option("--token", o.token, "Its API token, with --addr");
  app.add_option("--runs", o.runs,
                 "Measure this many times, each with a serve and pool of its own (unless "
                 "--addr), then print the median, the spread and how many runs met the target")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  app.add_option("--target-per-s", o.target.per_s,
                 "A run meets the target with at least this many allocations/s...")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--target-p99-ms", o.target.p99_ms, "...and a p99 latency under this")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  o.serve.Add(app,
              ", and the load generator's own during the measured run (batch: it does not "
              "preempt Muster's threads when an answer wakes it, as a matchmaker on another "
              "machine would not)");
  CLI11_PARSE(app, argc, argv);
  if (o.mode == "registered" && o.door == "thundernetes") {
    std::cerr << "the thundernetes door allocates by a fleet's buildID: use --mode handback\n";
    return 2;
  }
  if (o.pool == 0) o.pool = o.mode == "registered" ? 100000 : 1000;
  if (o.runs > 1 && !o.addr.empty() && o.mode == "registered") {
    std::cerr << "--runs " << o.runs
              << " with --addr: the registered mode allocates the pool it is given once; start "
                 "one serve per run (leave out --addr) or use --runs 1\n";
    return 2;
  }
  std::vector<json> runs;
  for (int i = 1; i <= o.runs; ++i) {
    if (o.runs > 1) std::cerr << "run " << i << " of " << o.runs << "\n";
    std::optional<json> run = MeasureOnce(o);
    if (!run) return 1;
    runs.push_back(std::move(*run));
  }
  if (o.runs > 1) muster::bench::PrintRunsSummary(o.target, runs);
  return 0;
}
