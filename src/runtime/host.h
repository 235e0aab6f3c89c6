// Facts about this machine: its node identity and which ports are bound.
#pragma once

#include <string>

#include "core/model.h"

namespace muster::runtime {

// True if `port` is bound on this host by anything (TCP and/or UDP per `protocol`,
// on any address). Used as the port registry's HostProbe.
bool PortInUse(int port, core::Protocol protocol);

// The first non-loopback IPv4 address, or "127.0.0.1" when there is none.
std::string FirstNonLoopbackIPv4();

std::string HostName();

// The directory holding the running executable ("" if unknown).
std::string ExecutableDir();

// Milliseconds since the Unix epoch, from the system clock. (core reads no clock.)
core::TimeMs NowMs();

}  // namespace muster::runtime
