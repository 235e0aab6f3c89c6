#include "support/raw_http.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <optional>

namespace muster::testing {
namespace {

using Clock = std::chrono::steady_clock;

// Takes one complete answer off the front of `buf`, if there is one. `bad` is set when
// the bytes cannot be an answer.
std::optional<RawAnswer> TakeAnswer(std::string& buf, bool& bad) {
  const size_t header_end = buf.find("\r\n\r\n");
  if (header_end == std::string::npos) return std::nullopt;
  const size_t cl = buf.find("Content-Length: ");
  if (buf.compare(0, 9, "HTTP/1.1 ") != 0 || cl == std::string::npos || cl > header_end) {
    bad = true;
    return std::nullopt;
  }
  const size_t body_at = header_end + 4;
  const size_t need = body_at + std::stoul(buf.substr(cl + 16));
  if (buf.size() < need) return std::nullopt;
  RawAnswer a{std::stoi(buf.substr(9, 3)), buf.substr(body_at, need - body_at)};
  buf.erase(0, need);
  return a;
}

}  // namespace

int ConnectLoopback(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool DriveClosedLoop(const std::vector<int>& ports, Clock::time_point end,
                     const std::function<std::string(size_t)>& request,
                     const std::function<void(size_t, const RawAnswer&, double)>& answer) {
  struct Conn {
    int fd = -1;
    std::string buf;
    Clock::time_point sent;
  };
  std::vector<Conn> conns(ports.size());
  const int ep = ::epoll_create1(EPOLL_CLOEXEC);
  auto send = [&](size_t i) {
    Conn& c = conns[i];
    const std::string req = request(i);
    c.sent = Clock::now();
    return ::write(c.fd, req.data(), req.size()) == static_cast<ssize_t>(req.size());
  };
  bool ok = true;
  size_t open = 0;
  for (size_t i = 0; i < ports.size(); ++i) {
    conns[i].fd = ConnectLoopback(ports[i]);
    if (conns[i].fd >= 0) ::fcntl(conns[i].fd, F_SETFL, O_NONBLOCK);
    if (conns[i].fd < 0 || !send(i)) {
      ok = false;
      continue;
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = i;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev);
    ++open;
  }
  char chunk[16384];
  epoll_event events[256];
  auto finish = [&](Conn& c) {
    ::close(c.fd);
    c.fd = -1;
    --open;
  };
  while (open > 0) {
    const int n = ::epoll_wait(ep, events, 256, 100);
    for (int e = 0; e < n; ++e) {
      const size_t i = events[e].data.u64;
      Conn& c = conns[i];
      if (c.fd < 0) continue;
      bool closed = false, bad = false;
      // One read per wake-up unless it filled the chunk: epoll is level-triggered, so
      // bytes left behind wake it again (a second read would mostly find nothing).
      for (;;) {
        const ssize_t got = ::read(c.fd, chunk, sizeof chunk);
        if (got > 0) c.buf.append(chunk, static_cast<size_t>(got));
        if (got == static_cast<ssize_t>(sizeof chunk)) continue;
        if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) closed = true;
        break;
      }
      bool answered = false;
      while (auto a = TakeAnswer(c.buf, bad)) {
        answer(i, *a, std::chrono::duration<double, std::milli>(Clock::now() - c.sent).count());
        answered = true;
      }
      if (bad || closed) {
        ok = false;
        finish(c);
      } else if (answered && Clock::now() >= end) {
        finish(c);
      } else if (answered && !send(i)) {
        ok = false;
        finish(c);
      }
    }
  }
  ::close(ep);
  return ok;
}

}  // namespace muster::testing
