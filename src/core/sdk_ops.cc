#include "core/sdk_ops.h"

#include <algorithm>
#include <set>

namespace muster::core {
namespace {

Status OutOfRange(std::string message, std::string field) {
  return Status(Code::kOutOfRange, std::move(message), std::move(field));
}

StatusOr<bool> SetPrefixed(Labels& map, const std::string& key, const std::string& value) {
  const std::string full = kSdkKeyPrefix + key;
  if (key.empty() || !IsQualifiedName(full))
    return InvalidArgument("\"" + key + "\" is not a valid key: with the prefix " +
                               std::string(kSdkKeyPrefix) + " it must be a qualified name",
                           "key");
  auto it = map.find(full);
  if (it != map.end() && it->second == value) return false;
  map[full] = value;
  return true;
}

template <typename Map>
typename Map::mapped_type* Find(Map& map, const std::string& name) {
  auto it = map.find(name);
  return it == map.end() ? nullptr : &it->second;
}

Status Undeclared(const char* what, const std::string& name) {
  return Status(Code::kNotFound,
                std::string(what) + " \"" + name + "\" is not declared in the game server's spec",
                "name");
}

}  // namespace

StatusOr<bool> SetSdkLabel(GameServer& gs, const std::string& key, const std::string& value) {
  if (!IsValidLabelValue(value))
    return InvalidArgument("\"" + value +
                               "\" is not a valid label value: at most 63 of [A-Za-z0-9-_.], "
                               "starting and ending alphanumeric",
                           "value");
  return SetPrefixed(gs.meta.labels, key, value);
}

StatusOr<bool> SetSdkAnnotation(GameServer& gs, const std::string& key, const std::string& value) {
  return SetPrefixed(gs.meta.annotations, key, value);
}

StatusOr<bool> PlayerConnect(GameServer& gs, const std::string& id) {
  if (id.empty()) return InvalidArgument("a player id is required", "playerID");
  auto& ids = gs.status.player_ids;
  if (std::find(ids.begin(), ids.end(), id) != ids.end()) return false;
  if (gs.status.player_count >= gs.status.player_capacity)
    return OutOfRange(
        "players are already at capacity (" + std::to_string(gs.status.player_capacity) + ")",
        "playerID");
  ids.push_back(id);
  gs.status.player_count += 1;
  return true;
}

StatusOr<bool> PlayerDisconnect(GameServer& gs, const std::string& id) {
  if (id.empty()) return InvalidArgument("a player id is required", "playerID");
  auto& ids = gs.status.player_ids;
  auto it = std::find(ids.begin(), ids.end(), id);
  if (it == ids.end()) return false;
  ids.erase(it);
  gs.status.player_count = std::max<int64_t>(0, gs.status.player_count - 1);
  return true;
}

StatusOr<bool> SetPlayerCapacity(GameServer& gs, int64_t capacity) {
  if (capacity < 0) return InvalidArgument("capacity must not be negative", "count");
  if (gs.status.player_capacity == capacity) return false;
  gs.status.player_capacity = capacity;
  return true;
}

bool SetConnectedPlayers(GameServer& gs, std::vector<std::string> ids) {
  std::set<std::string> seen;
  std::vector<std::string> unique;
  for (auto& id : ids)
    if (!id.empty() && seen.insert(id).second) unique.push_back(std::move(id));
  const int64_t count = static_cast<int64_t>(unique.size());
  if (gs.status.player_ids == unique && gs.status.player_count == count) return false;
  gs.status.player_ids = std::move(unique);
  gs.status.player_count = count;
  return true;
}

StatusOr<bool> SetPlayerCount(GameServer& gs, int64_t count) {
  if (count < 0) return InvalidArgument("playerCount must not be negative", "playerCount");
  if (gs.status.player_count == count) return false;
  gs.status.player_count = count;
  if (static_cast<int64_t>(gs.status.player_ids.size()) != count) gs.status.player_ids.clear();
  return true;
}

StatusOr<bool> UpdateCounter(GameServer& gs, const std::string& name, const CounterUpdate& u) {
  CounterStatus* c = Find(gs.status.counters, name);
  if (!c) return Undeclared("counter", name);
  CounterStatus next = *c;
  if (u.capacity) {
    if (*u.capacity < 0) return OutOfRange("capacity must not be negative", "capacity");
    next.capacity = *u.capacity;
  }
  if (u.count) next.count = *u.count;
  next.count += u.diff;
  if (next.count < 0 || next.count > next.capacity)
    return OutOfRange("count " + std::to_string(next.count) + " is outside [0, " +
                          std::to_string(next.capacity) + "]",
                      u.diff != 0 ? "countDiff" : (u.count ? "count" : "capacity"));
  if (next == *c) return false;
  *c = next;
  return true;
}

StatusOr<bool> UpdateList(GameServer& gs, const std::string& name, const ListUpdate& u) {
  ListStatus* l = Find(gs.status.lists, name);
  if (!l) return Undeclared("list", name);
  ListStatus next = *l;
  if (u.capacity) {
    if (*u.capacity < 0 || *u.capacity > kMaxListCapacity)
      return OutOfRange("capacity must be within [0, " + std::to_string(kMaxListCapacity) + "]",
                        "capacity");
    next.capacity = *u.capacity;
  }
  if (u.values) {
    std::set<std::string> seen;
    next.values.clear();
    for (const auto& v : *u.values)
      if (seen.insert(v).second) next.values.push_back(v);
    if (static_cast<int64_t>(next.values.size()) > next.capacity)
      return OutOfRange("more values than the capacity " + std::to_string(next.capacity), "values");
  }
  if (static_cast<int64_t>(next.values.size()) > next.capacity)
    next.values.resize(static_cast<size_t>(next.capacity));
  if (next == *l) return false;
  *l = std::move(next);
  return true;
}

StatusOr<bool> AddListValue(GameServer& gs, const std::string& name, const std::string& value) {
  ListStatus* l = Find(gs.status.lists, name);
  if (!l) return Undeclared("list", name);
  if (std::find(l->values.begin(), l->values.end(), value) != l->values.end())
    return Status(Code::kAlreadyExists, "\"" + value + "\" is already in list " + name, "value");
  if (static_cast<int64_t>(l->values.size()) >= l->capacity)
    return OutOfRange("list " + name + " is at capacity (" + std::to_string(l->capacity) + ")",
                      "value");
  l->values.push_back(value);
  return true;
}

StatusOr<bool> RemoveListValue(GameServer& gs, const std::string& name, const std::string& value) {
  ListStatus* l = Find(gs.status.lists, name);
  if (!l) return Undeclared("list", name);
  auto it = std::find(l->values.begin(), l->values.end(), value);
  if (it == l->values.end())
    return Status(Code::kNotFound, "\"" + value + "\" is not in list " + name, "value");
  l->values.erase(it);
  return true;
}

StatusOr<CounterStatus> GetCounter(const GameServer& gs, const std::string& name) {
  auto it = gs.status.counters.find(name);
  if (it == gs.status.counters.end()) return Undeclared("counter", name);
  return it->second;
}

StatusOr<ListStatus> GetList(const GameServer& gs, const std::string& name) {
  auto it = gs.status.lists.find(name);
  if (it == gs.status.lists.end()) return Undeclared("list", name);
  return it->second;
}

}  // namespace muster::core
