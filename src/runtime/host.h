// Facts about this machine: its node identity and which ports are bound.
#pragma once

#include <boost/asio/io_context.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/model.h"
#include "core/status.h"

namespace muster::runtime {

// True if `port` is bound on this host by anything (TCP and/or UDP per `protocol`,
// on any address). Used as the port registry's HostProbe.
bool PortInUse(int port, core::Protocol protocol);

// The first non-loopback IPv4 address, or "127.0.0.1" when there is none.
std::string FirstNonLoopbackIPv4();

std::string HostName();

// The directory holding the running executable ("" if unknown).
std::string ExecutableDir();

// The kernel's CPU scheduling policy of the calling thread, which the threads it starts
// afterwards inherit. Both run at priority 0 and need no privilege.
//   kNormal: SCHED_OTHER, the default.
//   kBatch:  SCHED_BATCH. A thread that is woken waits until the running one's turn ends
//            instead of preempting it, so threads that hand work to each other (and the
//            processes beside them) switch less; each still gets its fair share of CPU.
// Game servers are always started under kNormal (ProcessRuntime), whatever Muster runs at.
enum class CpuPolicy { kNormal, kBatch };
core::Status SetThreadCpuPolicy(CpuPolicy policy);
// "normal" or "batch", as the `--cpu-policy` flags spell them; nullopt for anything else.
std::optional<CpuPolicy> ParseCpuPolicy(std::string_view name);

// Keeps this machine's idle CPUs polling instead of halting for as long as the returned
// descriptor stays open (a PM QoS CPU wake-up latency of 0 µs, /dev/cpu_dma_latency;
// closing it, or the process ending, withdraws the request). A woken thread then runs at
// once instead of waiting for its CPU to wake up; on a VM whose idle vCPUs halt, instead
// of waiting for the hypervisor to run its vCPU again. Machine-wide; costs the idle
// CPUs' time (power on bare metal, credits on burstable VMs). Needs root.
core::StatusOr<int> KeepIdleCpusPolling();

// Runs `io`'s loop on the calling thread, which it names `name` (at most 15 bytes, as
// `top -H` shows it). Muster's threads hold state that handlers change in place, so a
// handler that throws may have left it half-changed: the process then stops, logging
// `name` and the error as critical, and the next start recovers what reached the disk
// (and re-adopts the game servers' processes). That is std::terminate's outcome too,
// but with the reason in the log.
void RunLoop(boost::asio::io_context& io, const char* name);

// Milliseconds since the Unix epoch, from the system clock. (core reads no clock.)
core::TimeMs NowMs();
// Milliseconds since boot, from the monotonic clock: never steps with the system's time.
core::TimeMs MonotonicMs();

}  // namespace muster::runtime
