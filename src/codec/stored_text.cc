#include "codec/stored_text.h"

#include <boost/json.hpp>

#include "codec/json_codec.h"

namespace muster::codec {
namespace {

namespace bj = boost::json;

bj::object Map(const core::Labels& m, bj::storage_ptr sp) {
  bj::object o(sp);
  for (const auto& [k, v] : m) o.emplace(k, v);
  return o;
}

}  // namespace

std::string StoredGameServerText(const core::GameServer& gs) {
  unsigned char arena[8192];
  bj::monotonic_resource mr(arena, sizeof arena);
  bj::storage_ptr sp(&mr);
  const core::GameServerStatus& s = gs.status;

  bj::object meta(sp);
  meta.emplace("name", gs.meta.name);
  if (!gs.meta.labels.empty()) meta.emplace("labels", Map(gs.meta.labels, sp));
  if (!gs.meta.annotations.empty()) meta.emplace("annotations", Map(gs.meta.annotations, sp));
  if (gs.meta.version) meta.emplace("resourceVersion", std::to_string(gs.meta.version));
  if (gs.meta.created_ms) meta.emplace("creationTimestamp", FormatTime(gs.meta.created_ms));
  if (gs.meta.deletion_ms) meta.emplace("deletionTimestamp", FormatTime(gs.meta.deletion_ms));
  if (!gs.fleet.empty()) {
    bj::array refs(sp);
    refs.emplace_back(bj::object({{"kind", "Fleet"}, {"name", gs.fleet}}, sp));
    meta.emplace("ownerReferences", std::move(refs));
  }

  bj::object st(sp);
  st.emplace("state", core::StateName(s.state));
  st.emplace("nodeName", s.node);
  st.emplace("address", s.address);
  bj::array ports(sp);
  for (const auto& p : s.ports)
    ports.emplace_back(bj::object({{"name", p.name}, {"port", p.port}}, sp));
  st.emplace("ports", std::move(ports));
  st.emplace("sdkPorts", bj::object({{"grpc", s.sdk_grpc_port}, {"http", s.sdk_http_port}}, sp));
  if (s.pid) st.emplace("pid", s.pid);
  if (s.process_start_ticks) st.emplace("processStartTicks", s.process_start_ticks);
  if (!s.reason.empty()) st.emplace("reason", s.reason);
  if (!s.message.empty()) st.emplace("message", s.message);
  if (s.state_since_ms) st.emplace("stateSince", FormatTime(s.state_since_ms));
  if (s.ready_ms) st.emplace("readyTime", FormatTime(s.ready_ms));
  if (s.reserved_until_ms) st.emplace("reservedUntil", FormatTime(s.reserved_until_ms));
  bj::array ids(sp);
  for (const auto& id : s.player_ids) ids.emplace_back(bj::string(id, sp));
  st.emplace("players", bj::object({{"count", s.player_count},
                                    {"capacity", s.player_capacity},
                                    {"ids", std::move(ids)}},
                                   sp));
  if (!s.counters.empty()) {
    bj::object counters(sp);
    for (const auto& [name, c] : s.counters)
      counters.emplace(name, bj::object({{"count", c.count}, {"capacity", c.capacity}}, sp));
    st.emplace("counters", std::move(counters));
  }
  if (!s.lists.empty()) {
    bj::object lists(sp);
    for (const auto& [name, l] : s.lists) {
      bj::array values(sp);
      for (const auto& v : l.values) values.emplace_back(bj::string(v, sp));
      lists.emplace(name,
                    bj::object({{"capacity", l.capacity}, {"values", std::move(values)}}, sp));
    }
    st.emplace("lists", std::move(lists));
  }
  if (s.allocation) {
    bj::array players(sp);
    for (const auto& p : s.allocation->initial_players) players.emplace_back(bj::string(p, sp));
    bj::object a(sp);
    a.emplace("sessionId", s.allocation->session_id);
    a.emplace("sessionCookie", s.allocation->session_cookie);
    a.emplace("initialPlayers", std::move(players));
    a.emplace("allocatedAt", FormatTime(s.allocation->allocated_ms));
    if (!s.allocation->joined.empty()) {
      bj::array joined(sp);
      for (const auto& j : s.allocation->joined) joined.emplace_back(bj::string(j, sp));
      a.emplace("joinedSessions", std::move(joined));
    }
    st.emplace("allocation", std::move(a));
  }

  bj::object root(sp);
  root.emplace("apiVersion", core::kApiVersion);
  root.emplace("kind", "GameServer");
  root.emplace("metadata", std::move(meta));
  root.emplace("status", std::move(st));
  return bj::serialize(root);
}

}  // namespace muster::codec
