#include "control/world.h"

namespace muster::control {

const core::Fleet* World::FindFleet(const std::string& name) const {
  auto it = fleets_.find(name);
  return it == fleets_.end() ? nullptr : &it->second;
}

const core::GameServer* World::FindServer(const std::string& name) const {
  auto it = servers_.find(name);
  return it == servers_.end() ? nullptr : &it->second;
}

std::vector<const core::GameServer*> World::ServersOf(const std::string& fleet) const {
  std::vector<const core::GameServer*> out;
  auto it = members_.find(fleet);
  if (it == members_.end()) return out;
  for (const auto& name : it->second) out.push_back(&servers_.at(name));
  return out;
}

void World::PutFleet(core::Fleet fleet) {
  std::string name = fleet.meta.name;
  fleets_[name] = std::move(fleet);
}

void World::EraseFleet(const std::string& name) { fleets_.erase(name); }

void World::PutServer(core::GameServer gs) {
  if (!gs.fleet.empty()) members_[gs.fleet].insert(gs.meta.name);
  std::string name = gs.meta.name;
  servers_[name] = std::move(gs);
}

void World::EraseServer(const std::string& name) {
  auto it = servers_.find(name);
  if (it == servers_.end()) return;
  if (!it->second.fleet.empty()) {
    auto m = members_.find(it->second.fleet);
    if (m != members_.end()) {
      m->second.erase(name);
      if (m->second.empty()) members_.erase(m);
    }
  }
  servers_.erase(it);
  live_.erase(name);
}

void World::Clear() {
  fleets_.clear();
  servers_.clear();
  members_.clear();
  live_.clear();
}

}  // namespace muster::control
