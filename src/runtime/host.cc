#include "runtime/host.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdint>
#include <cstring>
#include <exception>
#include <filesystem>

#include <spdlog/spdlog.h>

namespace muster::runtime {
namespace {

bool Bound(int port, int type) {
  int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
  if (fd < 0) return true;  // cannot tell: treat as taken
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  bool in_use = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0;
  ::close(fd);
  return in_use;
}

}  // namespace

bool PortInUse(int port, core::Protocol protocol) {
  switch (protocol) {
    case core::Protocol::kUDP: return Bound(port, SOCK_DGRAM);
    case core::Protocol::kTCP: return Bound(port, SOCK_STREAM);
    case core::Protocol::kTCPUDP: return Bound(port, SOCK_DGRAM) || Bound(port, SOCK_STREAM);
  }
  return true;
}

std::string FirstNonLoopbackIPv4() {
  ifaddrs* list = nullptr;
  std::string found = "127.0.0.1";
  if (::getifaddrs(&list) != 0) return found;
  for (ifaddrs* it = list; it; it = it->ifa_next) {
    if (!it->ifa_addr || it->ifa_addr->sa_family != AF_INET) continue;
    auto* in = reinterpret_cast<sockaddr_in*>(it->ifa_addr);
    if ((ntohl(in->sin_addr.s_addr) >> 24) == 127) continue;
    char buf[INET_ADDRSTRLEN];
    if (::inet_ntop(AF_INET, &in->sin_addr, buf, sizeof buf)) {
      found = buf;
      break;
    }
  }
  ::freeifaddrs(list);
  return found;
}

std::string HostName() {
  char buf[HOST_NAME_MAX + 1] = {0};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == 0) return "localhost";
  return buf;
}

std::string ExecutableDir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? "" : exe.parent_path().string();
}

core::Status SetThreadCpuPolicy(CpuPolicy policy) {
  const sched_param priority{0};
  const int linux_policy = policy == CpuPolicy::kBatch ? SCHED_BATCH : SCHED_OTHER;
  if (::sched_setscheduler(0, linux_policy, &priority) != 0)  // 0: the calling thread
    return core::FailedPrecondition(std::string("cannot set the CPU scheduling policy: ") +
                                    std::strerror(errno));
  return core::OkStatus();
}

std::optional<CpuPolicy> ParseCpuPolicy(std::string_view name) {
  if (name == "normal") return CpuPolicy::kNormal;
  if (name == "batch") return CpuPolicy::kBatch;
  return std::nullopt;
}

core::StatusOr<int> KeepIdleCpusPolling() {
  const int fd = ::open("/dev/cpu_dma_latency", O_WRONLY | O_CLOEXEC);
  const int32_t zero_us = 0;
  if (fd < 0 || ::write(fd, &zero_us, sizeof zero_us) != sizeof zero_us) {
    const std::string why = std::strerror(errno);
    if (fd >= 0) ::close(fd);
    return core::FailedPrecondition("cannot keep idle CPUs polling: /dev/cpu_dma_latency: " + why);
  }
  return fd;
}

core::TimeMs NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

core::TimeMs MonotonicMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void RunLoop(boost::asio::io_context& io, const char* name) {
  ::pthread_setname_np(::pthread_self(), name);
  try {
    io.run();
  } catch (const std::exception& e) {
    spdlog::critical(
        "{}: unexpected error: {}; stopping: the next start recovers what reached "
        "the disk",
        name, e.what());
    spdlog::default_logger()->flush();
    std::abort();
  }
}

}  // namespace muster::runtime
