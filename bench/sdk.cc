// SDK load: how many game-server SDK calls one `muster serve` handles, and what each
// game server's SDK endpoints cost in memory.
//
//   build/bin/bench_sdk [--transport grpc|rest|both] [--servers 200] [--clients 16] [--seconds 10]
//                       [--io-threads N]
//   (--help lists the flags and their defaults)
//
// It starts its own `muster serve` and registers --servers process-less game servers
// with SDK endpoints (each gets its own gRPC and HTTP SDK port, as a real one does).
// Then --clients load clients, each on one server's port, send health pings as fast
// as they go for --seconds:
//   grpc  one Health client stream per client, as the Agones SDKs keep (pings are
//         counted once the server has read them all: the stream's close is answered
//         only after its last ping);
//   rest  POST /health {} on a keep-alive connection per client, with latencies; one
//         epoll thread drives all the clients' connections, as wrk does;
//   both  half the clients each way, at the same time.
// Prints JSON lines: memory per game server, then throughput. The load clients share
// the machine's cores with Muster: the numbers include that cost.

#include <atomic>
#include <chrono>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "agones/sdk.grpc.pb.h"
#include "serve_flags.h"
#include "support/muster_process.h"
#include "support/poll.h"
#include "support/raw_http.h"

using nlohmann::json;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
namespace http = muster::api::http;

namespace {

struct Options {
  std::string transport = "grpc";
  int servers = 200;
  int clients = 16;
  double seconds = 10;
  muster::bench::ServeFlags serve;
};

double RssKiB(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6));
  return 0;
}

struct Ports {
  int grpc = 0, http = 0;
};

// gRPC: one Health stream per client; answers pings the server read.
long GrpcClient(int port, Clock::time_point end) {
  auto channel =
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials());
  auto stub = agones::dev::sdk::SDK::NewStub(channel);
  grpc::ClientContext ctx;
  agones::dev::sdk::Empty reply, ping;
  auto writer = stub->Health(&ctx, &reply);
  long sent = 0;
  while (Clock::now() < end) {
    for (int i = 0; i < 64; ++i) {
      if (!writer->Write(ping)) return -1;
      ++sent;
    }
  }
  writer->WritesDone();
  grpc::Status s = writer->Finish();  // answered after the server read every ping
  return s.ok() ? sent : -1;
}

// REST: --clients keep-alive connections, each sending POST /health {} and waiting for
// the answer before the next, all driven by one epoll thread (DriveClosedLoop, as wrk
// does). Latencies in ms. Answers the pings, or -1 on any failure. (Blocking client
// threads, and Asio coroutines, cost the shared cores much more.)
long RestLoad(const std::vector<int>& ports, Clock::time_point end,
              std::vector<double>* latencies) {
  const std::string req =
      "POST /health HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
      "Content-Length: 2\r\n\r\n{}";
  long ok = 0;
  bool failed = false;
  const bool drove = muster::testing::DriveClosedLoop(
      ports, end, [&](size_t) { return req; },
      [&](size_t, const muster::testing::RawAnswer& a, double ms) {
        if (a.status != 200) failed = true;
        latencies->push_back(ms);
        ++ok;
      });
  return drove && !failed ? ok : -1;
}

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  size_t k = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return v[k];
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{
      "SDK load: clients send health pings to game servers registered on a muster serve "
      "it starts, and it prints memory per game server and pings per second as JSON"};
  app.add_option("--transport", o.transport, "grpc streams, rest requests, or both at once")
      ->check(CLI::IsMember({"grpc", "rest", "both"}))
      ->capture_default_str();
  app.add_option("--servers", o.servers, "Process-less game servers with SDK endpoints")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--clients", o.clients, "Load clients, each on one server's SDK port")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--seconds", o.seconds, "Length of the measured run")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  o.serve.Add(app,
              " (the load clients stand for game servers and run at the kernel's default, as "
              "Muster starts them)");
  CLI11_PARSE(app, argc, argv);

  muster::testing::MusterProcess muster({"36000-36999", "37000-39999", o.serve.Args("warn")});
  if (!muster.Start()) return 1;
  muster.StopOnSignals();
  const double before = RssKiB(muster.serve_pid());

  std::cerr << "registering " << o.servers << " game servers with SDK endpoints...\n";
  for (int i = 0; i < o.servers; ++i) {
    int status = 0;
    muster.Call("POST", "/v1/gameservers",
                muster::testing::ExternalServer("sdk-" + std::to_string(i), 10000 + i), &status);
    if (status != 201) return 1;
  }
  std::vector<Ports> ports;
  if (!muster::testing::PollUntil(
          [&] {
            ports.clear();
            for (const json& gs : muster.InState("", "Ready"))
              ports.push_back({gs["status"]["sdkPorts"]["grpc"], gs["status"]["sdkPorts"]["http"]});
            return static_cast<int>(ports.size()) == o.servers;
          },
          60s, 100ms))
    return 1;
  const double after = RssKiB(muster.serve_pid());
  std::cout << json{{"servers", o.servers},
                    {"muster_rss_mib_before", before / 1024},
                    {"muster_rss_mib_after", after / 1024},
                    {"kib_per_game_server", (after - before) / o.servers}}
                   .dump()
            << std::endl;

  std::cerr << o.clients << " " << o.transport << " clients for " << o.seconds << " s...\n";
  // "both": half the clients on gRPC streams, half on REST, at the same time.
  const int grpc_clients = o.transport == "grpc"   ? o.clients
                           : o.transport == "both" ? o.clients / 2
                                                   : 0;
  const int rest_clients = o.clients - grpc_clients;
  std::vector<std::thread> threads;
  std::vector<long> grpc_counts(grpc_clients, 0);
  long rest_count = 0;
  std::vector<double> latencies;
  const auto start = Clock::now();
  const auto end =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
  for (int c = 0; c < grpc_clients; ++c) {
    const int port = ports[c % ports.size()].grpc;
    threads.emplace_back([&, c, port] { grpc_counts[c] = GrpcClient(port, end); });
  }
  if (rest_clients > 0) {
    std::vector<int> http_ports;
    for (int c = 0; c < rest_clients; ++c)
      http_ports.push_back(ports[(grpc_clients + c) % ports.size()].http);
    threads.emplace_back([&, http_ports] { rest_count = RestLoad(http_ports, end, &latencies); });
  }
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  long grpc_total = 0, failed = rest_count < 0 ? 1 : 0;
  for (long n : grpc_counts) (n < 0 ? failed : grpc_total) += n < 0 ? 1 : n;
  const long rest_total = std::max(0L, rest_count);
  json out = {{"transport", o.transport},
              {"cpu_policy", o.serve.cpu_policy},
              {"cpu_idle", o.serve.cpu_idle},
              {"clients", o.clients},
              {"seconds", elapsed},
              {"pings", grpc_total + rest_total},
              {"pings_per_s", (grpc_total + rest_total) / elapsed},
              {"failed_clients", failed}};
  if (grpc_clients > 0) out["grpc_pings_per_s"] = grpc_total / elapsed;
  if (rest_clients > 0) {
    out["rest_pings_per_s"] = rest_total / elapsed;
    out["rest_p50_ms"] = Percentile(latencies, 0.50);
    out["rest_p99_ms"] = Percentile(latencies, 0.99);
  }
  std::cout << out.dump() << std::endl;
  return failed ? 1 : 0;
}
