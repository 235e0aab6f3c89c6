// Thin wrappers over Linux process facilities.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace muster::runtime {

// /proc/<pid>/stat field 22 (starttime, in clock ticks since boot); nullopt if no such
// process, or if it is a zombie and `allow_zombie` is false (a zombie no longer runs: not
// something to adopt; but our own child that exited at once is a zombie until we reap it).
std::optional<uint64_t> ReadStartTicks(int pid, bool allow_zombie = false);

// pidfd_open(2): a descriptor that becomes readable when the process exits. -1 on failure.
int OpenPidFd(int pid);

// The pids of every process /proc shows.
std::vector<int> ListPids();

// The environment `pid` was started with (/proc/<pid>/environ), by name; nullopt if it
// cannot be read (the process is gone, or another user's).
std::optional<std::map<std::string, std::string>> ReadStartEnv(int pid);

// Reaps our child `pid` if it has exited. Returns true and fills code/signal if reaped.
bool ReapChild(int pid, int* exit_code, int* signal);

}  // namespace muster::runtime
