// What game-server SDK calls do to one GameServer value, whichever SDK carries them
// (Agones gRPC or REST, PlayFab GSDK heartbeats, DGS callbacks). Pure: each function
// changes `gs` only when it succeeds, and says whether anything changed.
// Contract: ../shared/reference/agones-sdk.md (labels, players, counters, lists).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/model.h"

namespace muster::core {

// Labels and annotations set through the SDK carry this key prefix.
inline constexpr const char* kSdkKeyPrefix = "agones.dev/sdk-";

// `key` is given without the prefix. InvalidArgument (field "key" or "value") when the
// prefixed key is not a qualified name, or a label value is not a valid label value.
StatusOr<bool> SetSdkLabel(GameServer& gs, const std::string& key, const std::string& value);
StatusOr<bool> SetSdkAnnotation(GameServer& gs, const std::string& key, const std::string& value);

// Player tracking. Connect answers false if `id` is already connected and OutOfRange
// at capacity; Disconnect answers false if `id` was not connected.
StatusOr<bool> PlayerConnect(GameServer& gs, const std::string& id);
StatusOr<bool> PlayerDisconnect(GameServer& gs, const std::string& id);
StatusOr<bool> SetPlayerCapacity(GameServer& gs, int64_t capacity);
// Replaces the connected players (GSDK heartbeats report the whole list).
bool SetConnectedPlayers(GameServer& gs, std::vector<std::string> ids);
// Sets only a count (DGS callbacks): ids are dropped unless they still add up.
StatusOr<bool> SetPlayerCount(GameServer& gs, int64_t count);

// Counters: capacity is set first, then count, then `diff` is added. NotFound for a
// counter the template does not declare; OutOfRange when the result leaves
// [0, capacity]. Nothing changes on error.
struct CounterUpdate {
  std::optional<int64_t> count;
  std::optional<int64_t> capacity;
  int64_t diff = 0;
};
StatusOr<bool> UpdateCounter(GameServer& gs, const std::string& name, const CounterUpdate& u);

// Lists: a lowered capacity truncates the values; values given replace the list
// (duplicates dropped) and must fit. AddListValue: AlreadyExists for a duplicate,
// OutOfRange when full. RemoveListValue: NotFound when absent.
inline constexpr int64_t kMaxListCapacity = 1000;
struct ListUpdate {
  std::optional<int64_t> capacity;
  std::optional<std::vector<std::string>> values;
};
StatusOr<bool> UpdateList(GameServer& gs, const std::string& name, const ListUpdate& u);
StatusOr<bool> AddListValue(GameServer& gs, const std::string& name, const std::string& value);
StatusOr<bool> RemoveListValue(GameServer& gs, const std::string& name, const std::string& value);

// Lookups with the same NotFound rule as the updates.
StatusOr<CounterStatus> GetCounter(const GameServer& gs, const std::string& name);
StatusOr<ListStatus> GetList(const GameServer& gs, const std::string& name);

}  // namespace muster::core
