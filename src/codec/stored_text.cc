#include "codec/stored_text.h"

#include "codec/json_codec.h"
#include "codec/json_writer.h"

namespace muster::codec {
namespace {

void Strings(JsonWriter& w, std::string_view key, const std::vector<std::string>& values) {
  w.Key(key).BeginArray();
  for (const auto& v : values) w.String(v);
  w.EndArray();
}

void Metadata(JsonWriter& w, const core::GameServer& gs) {
  w.Key("metadata").BeginObject().Field("name", gs.meta.name);
  if (!gs.meta.labels.empty()) w.Key("labels").StringMap(gs.meta.labels);
  if (!gs.meta.annotations.empty()) w.Key("annotations").StringMap(gs.meta.annotations);
  if (gs.meta.created_ms) w.Field("creationTimestamp", FormatTime(gs.meta.created_ms));
  if (gs.meta.deletion_ms) w.Field("deletionTimestamp", FormatTime(gs.meta.deletion_ms));
  if (!gs.fleet.empty()) {
    w.Key("ownerReferences").BeginArray();
    w.BeginObject().Field("kind", "Fleet").Field("name", gs.fleet).EndObject();
    w.EndArray();
  }
  w.EndObject();
}

void Status(JsonWriter& w, const core::GameServerStatus& s) {
  w.Key("status").BeginObject();
  w.Field("state", core::StateName(s.state));
  if (!s.node.empty()) w.Field("nodeName", s.node);
  if (!s.address.empty()) w.Field("address", s.address);
  w.Key("ports").BeginArray();  // always: stored ports replace what a spec implies
  for (const auto& p : s.ports)
    w.BeginObject().Field("name", p.name).Field("port", int64_t{p.port}).EndObject();
  w.EndArray();
  if (s.sdk_grpc_port || s.sdk_http_port) {
    w.Key("sdkPorts").BeginObject();
    w.Field("grpc", int64_t{s.sdk_grpc_port}).Field("http", int64_t{s.sdk_http_port}).EndObject();
  }
  if (s.pid) w.Field("pid", int64_t{s.pid});
  if (s.process_start_ticks)
    w.Field("processStartTicks", static_cast<int64_t>(s.process_start_ticks));
  if (!s.reason.empty()) w.Field("reason", s.reason);
  if (!s.message.empty()) w.Field("message", s.message);
  if (s.state_since_ms) w.Field("stateSince", FormatTime(s.state_since_ms));
  if (s.ready_ms) w.Field("readyTime", FormatTime(s.ready_ms));
  if (s.reserved_until_ms) w.Field("reservedUntil", FormatTime(s.reserved_until_ms));
  if (s.player_count || s.player_capacity || !s.player_ids.empty()) {
    w.Key("players").BeginObject();
    w.Field("count", s.player_count).Field("capacity", s.player_capacity);
    Strings(w, "ids", s.player_ids);
    w.EndObject();
  }
  if (!s.counters.empty()) {
    w.Key("counters").BeginObject();
    for (const auto& [name, c] : s.counters)
      w.Key(name).BeginObject().Field("count", c.count).Field("capacity", c.capacity).EndObject();
    w.EndObject();
  }
  if (!s.lists.empty()) {
    w.Key("lists").BeginObject();
    for (const auto& [name, l] : s.lists) {
      w.Key(name).BeginObject().Field("capacity", l.capacity);
      Strings(w, "values", l.values);
      w.EndObject();
    }
    w.EndObject();
  }
  if (s.allocation) {
    const core::AllocationInfo& a = *s.allocation;
    w.Key("allocation").BeginObject();
    w.Field("sessionId", a.session_id);
    if (!a.session_cookie.empty()) w.Field("sessionCookie", a.session_cookie);
    if (!a.initial_players.empty()) Strings(w, "initialPlayers", a.initial_players);
    w.Field("allocatedAt", FormatTime(a.allocated_ms));
    if (!a.joined.empty()) Strings(w, "joinedSessions", a.joined);
    w.EndObject();
  }
  w.EndObject();
}

}  // namespace

std::string StoredGameServerText(const core::GameServer& gs) {
  std::string out;
  out.reserve(1024);
  JsonWriter w(out);
  w.BeginObject();
  Metadata(w, gs);
  Status(w, gs.status);
  w.EndObject();
  return out;
}

}  // namespace muster::codec
