// The in-memory view of the store, owned by the control thread. Never shared:
// readers on other threads get copies.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/model.h"

namespace muster::control {

// What Muster knows about a server's process that is not stored.
struct LiveState {
  core::TimeMs started_ms = 0;    // process start or re-adoption: health counts from here
  core::TimeMs last_ping_ms = 0;  // last SDK health ping; 0 = none since start
};

class World {
 public:
  const core::Fleet* FindFleet(const std::string& name) const;
  const core::GameServer* FindServer(const std::string& name) const;
  const std::map<std::string, core::Fleet>& fleets() const { return fleets_; }
  const std::map<std::string, core::GameServer>& servers() const { return servers_; }
  std::vector<const core::GameServer*> ServersOf(const std::string& fleet) const;

  void PutFleet(core::Fleet fleet);
  void EraseFleet(const std::string& name);
  void PutServer(core::GameServer gs);
  void EraseServer(const std::string& name);
  void Clear();

  LiveState& Live(const std::string& name) { return live_[name]; }

 private:
  std::map<std::string, core::Fleet> fleets_;
  std::map<std::string, core::GameServer> servers_;
  std::map<std::string, std::set<std::string>> members_;  // fleet -> its servers
  std::map<std::string, LiveState> live_;
};

}  // namespace muster::control
