#include "control/world.h"

#include "core/health.h"

namespace muster::control {

const core::Fleet* World::FindFleet(const std::string& name) const {
  auto it = fleets_.find(name);
  return it == fleets_.end() ? nullptr : &it->second;
}

const core::GameServer* World::FindServer(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

const std::map<std::string, const core::GameServer*>* World::MembersOf(
    const std::string& fleet) const {
  auto it = members_.find(fleet);
  return it == members_.end() ? nullptr : &it->second;
}

std::vector<const core::GameServer*> World::ServersOf(const std::string& fleet) const {
  std::vector<const core::GameServer*> out;
  auto it = members_.find(fleet);
  if (it == members_.end()) return out;
  out.reserve(it->second.size());
  for (const auto& [name, gs] : it->second) out.push_back(gs);
  return out;
}

void World::PutFleet(core::Fleet fleet) {
  std::string name = fleet.meta.name;
  fleets_[name] = std::move(fleet);
}

void World::EraseFleet(const std::string& name) { fleets_.erase(name); }

void World::PutServer(core::GameServer gs) {
  index_.Update(gs);
  auto found = by_name_.find(gs.meta.name);
  const bool added = found == by_name_.end();
  if (added) {
    auto node = servers_.try_emplace(gs.meta.name).first;
    found = by_name_.emplace(node->first, &node->second).first;
  }
  core::GameServer& stored = *found->second;
  IndexSessions(stored, false);
  stored = std::move(gs);
  IndexSessions(stored, true);
  Track(stored);
  // A server's fleet is set when it is created and never changes (the controller
  // refuses that), and its map node never moves: it joins members_ once.
  if (added && !stored.fleet.empty()) members_[stored.fleet][stored.meta.name] = &stored;
}

void World::IndexSessions(const core::GameServer& gs, bool add) {
  if (!gs.status.allocation) return;
  // A session is on a server only while it runs allocated: one that shuts down, fails,
  // returns to Ready or is being deleted has ended its sessions.
  if (add && (gs.status.state != core::GameServerState::kAllocated || gs.meta.deletion_ms != 0))
    return;
  auto index = [&](const std::string& id) {
    if (id.empty()) return;
    if (add) {
      sessions_[id] = &gs;
    } else if (auto it = sessions_.find(id); it != sessions_.end() && it->second == &gs) {
      sessions_.erase(it);  // only its own: an ended session's id may be on another by now
    }
  };
  index(gs.status.allocation->session_id);
  for (const auto& id : gs.status.allocation->joined) index(id);
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
  IndexSessions(it->second, false);
  by_name_.erase(it->first);
  servers_.erase(it);
  live_.erase(name);
  health_checked_.erase(name);
  reserved_with_deadline_.erase(name);
  index_.Remove(name);
}

void World::Track(const core::GameServer& gs) {
  const std::string& name = gs.meta.name;
  // HealthDeadline is 0 exactly when health does not apply (disabled, state, deleting).
  if (core::HealthDeadline(gs, 1, 0) != 0)
    health_checked_.insert(name);
  else
    health_checked_.erase(name);
  if (gs.status.state == core::GameServerState::kReserved && gs.status.reserved_until_ms != 0)
    reserved_with_deadline_.insert(name);
  else
    reserved_with_deadline_.erase(name);
}

const core::GameServer* World::FindSession(const std::string& session_id) const {
  auto it = sessions_.find(session_id);
  return it == sessions_.end() ? nullptr : it->second;
}

void World::Clear() {
  fleets_.clear();
  by_name_.clear();
  servers_.clear();
  members_.clear();
  index_ = core::AllocationIndex();
  sessions_.clear();
  health_checked_.clear();
  reserved_with_deadline_.clear();
}

void World::DropLiveOfUnknownServers() {
  std::erase_if(live_, [&](const auto& entry) { return !by_name_.count(entry.first); });
}

}  // namespace muster::control
