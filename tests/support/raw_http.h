// A wrk-style load driver for benchmarks: keep-alive HTTP/1.1 connections to 127.0.0.1,
// each sending one request and waiting for its answer before the next, all driven by
// the calling thread with epoll. Requests are whole bytes; answers are read up to their
// Content-Length. Lighter on shared cores than Beast clients, so a benchmark's load
// generator takes less of what it measures.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace muster::testing {

// A blocking TCP connection to 127.0.0.1:port (TCP_NODELAY), or -1.
int ConnectLoopback(int port);

struct RawAnswer {
  int status = 0;
  std::string body;
};

// One connection per entry of `ports`. `request(i)` builds connection i's next request;
// `answer(i, a, latency_ms)` sees each answer. New requests go out until `end`; the
// answers in flight then are still read. False if a connection failed (could not
// connect, closed early, or sent something that is not an answer).
bool DriveClosedLoop(const std::vector<int>& ports, std::chrono::steady_clock::time_point end,
                     const std::function<std::string(size_t)>& request,
                     const std::function<void(size_t, const RawAnswer&, double)>& answer);

}  // namespace muster::testing
