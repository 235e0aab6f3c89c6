// Per-server log files with a size cap, kept by copy-and-truncate so that a game
// server keeps writing to the same descriptor (it may outlive Muster).
#pragma once

#include <cstdint>
#include <string>

namespace muster::runtime {

// If `path` is larger than `max_bytes`, moves its content to `path`.1 (replacing the
// previous one) and truncates `path` to zero. The writer opened it O_APPEND, so its
// next write lands at the new end. Lines written between the copy and the truncate
// are lost; at most 2 × max_bytes are kept per server.
void EnforceLogCap(const std::string& path, uint64_t max_bytes);

// The last `max_bytes` of `path` and of `path`.1 before it, as one string.
std::string ReadLogTail(const std::string& path, uint64_t max_bytes);

}  // namespace muster::runtime
