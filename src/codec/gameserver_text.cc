#include "codec/gameserver_text.h"

#include "codec/json_codec.h"
#include "codec/json_writer.h"

namespace muster::codec {
namespace {

void Strings(JsonWriter& w, std::string_view key, const std::vector<std::string>& values) {
  w.Key(key).BeginArray();
  for (const auto& v : values) w.String(v);
  w.EndArray();
}

// kApi: the API's form, every field the API shows. kStored: the store's row, less what
// the store keeps elsewhere or can infer (see gameserver_text.h).
enum class Form { kApi, kStored };

void Metadata(JsonWriter& w, const core::GameServer& gs, Form form) {
  w.Key("metadata").BeginObject().Field("name", gs.meta.name);
  if (!gs.meta.labels.empty()) w.Key("labels").StringMap(gs.meta.labels);
  if (!gs.meta.annotations.empty()) w.Key("annotations").StringMap(gs.meta.annotations);
  if (form == Form::kApi && gs.meta.version)
    w.Field("resourceVersion", std::to_string(gs.meta.version));
  if (gs.meta.created_ms) w.Field("creationTimestamp", FormatTime(gs.meta.created_ms));
  if (gs.meta.deletion_ms) w.Field("deletionTimestamp", FormatTime(gs.meta.deletion_ms));
  if (!gs.fleet.empty()) {
    w.Key("ownerReferences").BeginArray();
    w.BeginObject().Field("kind", "Fleet").Field("name", gs.fleet).EndObject();
    w.EndArray();
  }
  w.EndObject();
}

void Ports(JsonWriter& w, const std::vector<core::AssignedPort>& ports) {
  w.BeginArray();
  for (const auto& p : ports)
    w.BeginObject().Field("name", p.name).Field("port", int64_t{p.port}).EndObject();
  w.EndArray();
}

void CountersAndLists(JsonWriter& w, const core::Counters& counters, const core::Lists& lists) {
  if (!counters.empty()) {
    w.Key("counters").BeginObject();
    for (const auto& [name, c] : counters)
      w.Key(name).BeginObject().Field("count", c.count).Field("capacity", c.capacity).EndObject();
    w.EndObject();
  }
  if (!lists.empty()) {
    w.Key("lists").BeginObject();
    for (const auto& [name, l] : lists) {
      w.Key(name).BeginObject().Field("capacity", l.capacity);
      Strings(w, "values", l.values);
      w.EndObject();
    }
    w.EndObject();
  }
}

void Status(JsonWriter& w, const core::GameServerStatus& s, Form form) {
  const bool api = form == Form::kApi;
  w.Key("status").BeginObject();
  w.Field("state", core::StateName(s.state));
  if (api || !s.node.empty()) w.Field("nodeName", s.node);
  if (api || !s.address.empty()) w.Field("address", s.address);
  Ports(w.Key("ports"), s.ports);  // always: stored ports replace what a spec implies
  if (api || s.sdk_grpc_port || s.sdk_http_port) {
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
  if (api || s.player_count || s.player_capacity || !s.player_ids.empty()) {
    w.Key("players").BeginObject();
    w.Field("count", s.player_count).Field("capacity", s.player_capacity);
    Strings(w, "ids", s.player_ids);
    w.EndObject();
  }
  CountersAndLists(w, s.counters, s.lists);
  if (s.allocation) {
    const core::AllocationInfo& a = *s.allocation;
    w.Key("allocation").BeginObject();
    w.Field("sessionId", a.session_id);
    if (api || !a.session_cookie.empty()) w.Field("sessionCookie", a.session_cookie);
    if (api || !a.initial_players.empty()) Strings(w, "initialPlayers", a.initial_players);
    w.Field("allocatedAt", FormatTime(a.allocated_ms));
    if (!a.joined.empty()) Strings(w, "joinedSessions", a.joined);
    w.EndObject();
  }
  w.EndObject();
}

bool IsEmptyTemplate(std::string_view t) { return t.empty() || t == "{}" || t == "null"; }

// The spec as the API shows it. For a registered server (`registered`), also where it
// runs (spec.external), and the pod template only if it has one.
void SpecObject(JsonWriter& w, const core::GameServerSpec& spec, bool with_scheduling,
                const core::GameServer* registered) {
  w.BeginObject().Key("ports").BeginArray();
  for (const auto& p : spec.ports) {
    w.BeginObject().Field("name", p.name);
    w.Field("portPolicy", core::PortPolicyName(p.policy));
    w.Field("protocol", core::ProtocolName(p.protocol));
    if (p.container_port) w.Field("containerPort", int64_t{p.container_port});
    if (p.host_port) w.Field("hostPort", int64_t{p.host_port});
    w.EndObject();
  }
  w.EndArray();
  w.Key("health").BeginObject().Key("disabled").Bool(spec.health.disabled);
  w.Field("initialDelaySeconds", int64_t{spec.health.initial_delay_s});
  w.Field("periodSeconds", int64_t{spec.health.period_s});
  w.Field("failureThreshold", int64_t{spec.health.failure_threshold}).EndObject();
  if (with_scheduling) w.Field("scheduling", core::SchedulingName(spec.scheduling));
  if (spec.initial_player_capacity)
    w.Key("players")
        .BeginObject()
        .Field("initialCapacity", spec.initial_player_capacity)
        .EndObject();
  CountersAndLists(w, spec.counters, spec.lists);
  if (!registered || !IsEmptyTemplate(spec.pod_template_json))
    w.Key("template").Raw(spec.pod_template_json.empty() ? "{}" : spec.pod_template_json);
  if (registered) {
    w.Key("external").BeginObject().Field("address", registered->status.address);
    Ports(w.Key("ports"), registered->status.ports);
    w.Key("sdk").Bool(registered->external_sdk).EndObject();
    if (!registered->fleet.empty()) w.Field("fleet", registered->fleet);
  }
  w.EndObject();
}

}  // namespace

std::string StoredGameServerText(const core::GameServer& gs) {
  std::string out;
  out.reserve(1024);
  JsonWriter w(out);
  w.BeginObject();
  Metadata(w, gs, Form::kStored);
  Status(w, gs.status, Form::kStored);
  w.EndObject();
  return out;
}

void AppendGameServerText(std::string& out, const core::GameServer& gs) {
  JsonWriter w(out);
  w.BeginObject().Field("apiVersion", core::kApiVersion).Field("kind", "GameServer");
  Metadata(w, gs, Form::kApi);
  SpecObject(w.Key("spec"), *gs.spec, true, gs.external ? &gs : nullptr);
  Status(w, gs.status, Form::kApi);
  w.EndObject();
}

std::string GameServerText(const core::GameServer& gs) {
  std::string out;
  out.reserve(1024);
  AppendGameServerText(out, gs);
  return out;
}

std::string GameServerSpecText(const core::GameServer& gs) {
  std::string out;
  JsonWriter w(out);
  SpecObject(w, *gs.spec, true, gs.external ? &gs : nullptr);
  return out;
}

std::string GameServerSpecText(const core::GameServerSpec& spec, bool with_scheduling) {
  std::string out;
  JsonWriter w(out);
  SpecObject(w, spec, with_scheduling, nullptr);
  return out;
}

}  // namespace muster::codec
