// Owns a range of host ports and hands each to at most one owner (a game server).
// Pure bookkeeping; whether the host already has a port bound is asked through the
// HostProbe the caller passes in (runtime/host.h provides the real one).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace muster::core {

struct PortRange {
  int first = 0;
  int last = 0;  // inclusive
  int size() const { return last - first + 1; }
  bool contains(int p) const { return p >= first && p <= last; }
};

class PortRegistry {
 public:
  // Returns true if something on the host already has `port` bound.
  using HostProbe = std::function<bool(int port)>;

  explicit PortRegistry(PortRange range);

  // Hands out a port of the range held by nobody and free on the host, scanning
  // round-robin from after the last port handed out, so a just-freed port is the
  // last to be reused. nullopt when the range is exhausted.
  std::optional<int> Allocate(const std::string& owner, const HostProbe& in_use_on_host);

  // Records that `owner` holds `port` (a Static port, or rebuilding from the store).
  // The port may lie outside the range. AlreadyExists if another owner holds it.
  Status Claim(int port, const std::string& owner);

  // Frees every port `owner` holds. Idempotent.
  void ReleaseAll(const std::string& owner);

  bool IsHeld(int port) const { return holder_.count(port) > 0; }
  size_t held() const { return holder_.size(); }
  const PortRange& range() const { return range_; }

 private:
  PortRange range_;
  int next_;
  std::map<int, std::string> holder_;
  std::map<std::string, std::vector<int>> by_owner_;
};

}  // namespace muster::core
