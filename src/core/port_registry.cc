#include "core/port_registry.h"

#include <algorithm>

namespace muster::core {

PortRegistry::PortRegistry(PortRange range) : range_(range), next_(range.first) {}

std::optional<int> PortRegistry::Allocate(const std::string& owner,
                                          const HostProbe& in_use_on_host) {
  const int n = range_.size();
  for (int i = 0; i < n; ++i) {
    int port = range_.first + (next_ - range_.first + i) % n;
    if (holder_.count(port) > 0) continue;
    if (in_use_on_host && in_use_on_host(port)) continue;
    holder_[port] = owner;
    by_owner_[owner].push_back(port);
    next_ = port + 1 > range_.last ? range_.first : port + 1;
    return port;
  }
  return std::nullopt;
}

Status PortRegistry::Claim(int port, const std::string& owner) {
  auto it = holder_.find(port);
  if (it != holder_.end()) {
    if (it->second == owner) return OkStatus();
    return Status(Code::kAlreadyExists,
                  "port " + std::to_string(port) + " is held by " + it->second);
  }
  holder_[port] = owner;
  by_owner_[owner].push_back(port);
  return OkStatus();
}

void PortRegistry::ReleaseAll(const std::string& owner) {
  auto it = by_owner_.find(owner);
  if (it == by_owner_.end()) return;
  for (int port : it->second) holder_.erase(port);
  by_owner_.erase(it);
}

}  // namespace muster::core
