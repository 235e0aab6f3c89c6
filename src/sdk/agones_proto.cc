#include "sdk/agones_proto.h"

#include <google/protobuf/util/json_util.h>

namespace muster::sdk {

void ToProto(const core::GameServer& gs, pb::GameServer* out) {
  auto* meta = out->mutable_object_meta();
  meta->set_name(gs.meta.name);
  meta->set_namespace_("default");
  meta->set_uid(gs.meta.name);
  meta->set_resource_version(std::to_string(gs.meta.version));
  meta->set_generation(1);
  meta->set_creation_timestamp(gs.meta.created_ms / 1000);
  meta->set_deletion_timestamp(gs.meta.deletion_ms / 1000);
  for (const auto& [k, v] : gs.meta.annotations) (*meta->mutable_annotations())[k] = v;
  for (const auto& [k, v] : gs.meta.labels) (*meta->mutable_labels())[k] = v;

  const core::HealthSpec& h = gs.spec->health;
  auto* health = out->mutable_spec()->mutable_health();
  health->set_disabled(h.disabled);
  health->set_period_seconds(h.period_s);
  health->set_failure_threshold(h.failure_threshold);
  health->set_initial_delay_seconds(h.initial_delay_s);

  const core::GameServerStatus& s = gs.status;
  auto* st = out->mutable_status();
  st->set_state(core::StateName(s.state));
  st->set_address(s.address);
  for (const auto& p : s.ports) {
    auto* port = st->add_ports();
    port->set_name(p.name);
    port->set_port(p.port);
  }
  if (!s.address.empty()) {
    auto* a = st->add_addresses();
    a->set_type("InternalIP");
    a->set_address(s.address);
  }
  auto* players = st->mutable_players();
  players->set_count(s.player_count);
  players->set_capacity(s.player_capacity);
  for (const auto& id : s.player_ids) players->add_ids(id);
  for (const auto& [name, c] : s.counters) {
    auto& counter = (*st->mutable_counters())[name];
    counter.set_count(c.count);
    counter.set_capacity(c.capacity);
  }
  for (const auto& [name, l] : s.lists) {
    auto& list = (*st->mutable_lists())[name];
    list.set_capacity(l.capacity);
    for (const auto& v : l.values) list.add_values(v);
  }
}

void ToProto(const std::string& name, const core::CounterStatus& c, pb::beta::Counter* out) {
  out->set_name(name);
  out->set_count(c.count);
  out->set_capacity(c.capacity);
}

void ToProto(const std::string& name, const core::ListStatus& l, pb::beta::List* out) {
  out->set_name(name);
  out->set_capacity(l.capacity);
  for (const auto& v : l.values) out->add_values(v);
}

core::StatusOr<core::ListUpdate> ListUpdateFor(const pb::beta::List& list,
                                               const std::vector<std::string>& paths) {
  core::ListUpdate u;
  auto values = [&] {
    return std::vector<std::string>(list.values().begin(), list.values().end());
  };
  if (paths.empty()) {
    if (list.capacity() != 0) u.capacity = list.capacity();
    if (list.values_size() > 0) u.values = values();
    return u;
  }
  for (const auto& path : paths) {
    if (path == "capacity")
      u.capacity = list.capacity();
    else if (path == "values")
      u.values = values();
    else
      return core::InvalidArgument("update_mask may name capacity and values, not \"" + path + "\"",
                                   "update_mask");
  }
  return u;
}

std::string GatewayJson(const google::protobuf::Message& m) {
  // Messages without fields (Empty) are the most common answer: skip the printer.
  if (m.GetDescriptor()->field_count() == 0) return "{}";
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(m, &out, options);
  return out;
}

core::Status ParseGatewayJson(const std::string& body, google::protobuf::Message* m) {
  // The usual body of an SDK call without arguments ("{}", or nothing): nothing to parse.
  if (body.empty() || body == "{}") return core::OkStatus();
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  auto st = google::protobuf::util::JsonStringToMessage(body.empty() ? "{}" : body, m, options);
  if (!st.ok())
    return core::InvalidArgument("the body is not a valid " + m->GetDescriptor()->name() +
                                     " in JSON: " + std::string(st.message()),
                                 "body");
  return core::OkStatus();
}

}  // namespace muster::sdk
