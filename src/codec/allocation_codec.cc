#include "codec/allocation_codec.h"

#include <algorithm>
#include <cctype>
#include <string_view>

#include "codec/field_reader.h"
#include "codec/json_writer.h"

namespace muster::codec {
namespace {

using core::FieldError;

std::optional<core::GameServerState> ParseSelectorState(const json& v) {
  if (v.is_string()) {
    std::string s = v.get<std::string>();
    if (s == "Ready" || s == "READY") return core::GameServerState::kReady;
    if (s == "Allocated" || s == "ALLOCATED") return core::GameServerState::kAllocated;
  } else if (v.is_number_integer()) {  // the gateway also accepts enum numbers
    if (v.get<int64_t>() == 0) return core::GameServerState::kReady;
    if (v.get<int64_t>() == 1) return core::GameServerState::kAllocated;
  }
  return std::nullopt;
}

// uint64 in gateway JSON may come as a number or a string.
std::optional<int64_t> Count(FieldReader& r, const char* key) {
  const json* v = r.Raw(key);
  if (!v) return std::nullopt;
  if (v->is_number_integer() && v->get<int64_t>() >= 0) return v->get<int64_t>();
  if (v->is_string()) {
    try {
      size_t used = 0;
      int64_t n = std::stoll(v->get<std::string>(), &used);
      if (used == v->get<std::string>().size() && n >= 0) return n;
    } catch (...) {
    }
  }
  r.Error(r.PathOf(key), "must be a whole number, not negative");
  return std::nullopt;
}

core::GameServerSelector DecodeSelector(const json& j, const std::string& path, bool agones,
                                        std::vector<FieldError>& errors) {
  FieldReader r(&j, path, &errors, /*exact_strings=*/true);
  if (agones) r.DiscardUnknown();  // as Agones' gateway does
  core::GameServerSelector sel;
  sel.match_labels = r.StringMap("matchLabels").value_or(core::Labels{});
  if (!agones) {
    r.Array("matchExpressions", [&](const json& e, const std::string& p) {
      FieldReader x(&e, p, &errors, /*exact_strings=*/true);
      core::LabelRequirement req;
      req.key = x.String("key").value_or("");
      if (req.key.empty()) x.Error(p + ".key", "required");
      std::string op = x.String("operator").value_or("");
      if (auto parsed = core::ParseLabelOp(op))
        req.op = *parsed;
      else
        x.Error(p + ".operator", "must be In, NotIn, Exists or DoesNotExist, got \"" + op + "\"");
      req.values = x.Strings("values").value_or(std::vector<std::string>{});
      x.RejectUnknown();
      sel.match_expressions.push_back(std::move(req));
    });
  }
  if (const json* st = r.Raw("gameServerState")) {
    if (auto s = ParseSelectorState(*st))
      sel.state = *s;
    else
      r.Error(r.PathOf("gameServerState"),
              agones ? "must be READY or ALLOCATED" : "must be Ready or Allocated");
  }
  if (r.present("players")) {
    FieldReader p = r.Object("players");
    core::PlayerFilter f;
    f.min_available = Count(p, "minAvailable").value_or(0);
    f.max_available = Count(p, "maxAvailable").value_or(0);
    p.RejectUnknown();
    sel.players = f;
  }
  r.Members("counters", [&](const std::string& name, FieldReader& c) {
    core::CounterFilter f;
    f.min_count = Count(c, "minCount").value_or(0);
    f.max_count = Count(c, "maxCount").value_or(0);
    f.min_available = Count(c, "minAvailable").value_or(0);
    f.max_available = Count(c, "maxAvailable").value_or(0);
    sel.counters[name] = f;
  });
  r.Members("lists", [&](const std::string& name, FieldReader& l) {
    core::ListFilter f;
    f.contains_value = l.String("containsValue").value_or("");
    f.min_available = Count(l, "minAvailable").value_or(0);
    f.max_available = Count(l, "maxAvailable").value_or(0);
    sel.lists[name] = f;
  });
  r.RejectUnknown();
  return sel;
}

void DecodeMetaPatch(FieldReader& parent, const char* key, core::AllocationRequest& req) {
  if (!parent.present(key)) return;
  FieldReader m = parent.Object(key);
  req.labels = m.StringMap("labels").value_or(core::Labels{});
  req.annotations = m.StringMap("annotations").value_or(core::Labels{});
  m.RejectUnknown();
}

// Actions on the allocated server's counters and lists, applied in its allocation
// (Agones' CounterAction and ListAction; both doors take them). Numbers may be strings,
// as Agones' gateway writes an Int64Value.
void DecodeActions(FieldReader& r, core::AllocationRequest& req) {
  r.Members("counters", [&](const std::string& name, FieldReader& c) {
    core::CounterAction a;
    if (auto action = c.String("action")) {
      if (*action == "Increment" || *action == "Decrement")
        a.action = *action;
      else
        c.Error(c.PathOf("action"), "must be Increment or Decrement, got \"" + *action + "\"");
    }
    a.amount = Count(c, "amount").value_or(0);
    a.capacity = Count(c, "capacity");
    req.counter_actions[name] = a;
  });
  r.Members("lists", [&](const std::string& name, FieldReader& l) {
    core::ListAction a;
    a.capacity = Count(l, "capacity");
    a.add_values = l.Strings("addValues").value_or(std::vector<std::string>{});
    a.delete_values = l.Strings("deleteValues").value_or(std::vector<std::string>{});
    req.list_actions[name] = a;
  });
}

// `priorities`: each {type: Counter|List, key, order: Ascending|Descending}. The native
// door wants `type` and takes names only; Agones' gateway also takes the enums' numbers
// (Counter 0, List 1; Ascending 0, Descending 1) and defaults an absent one to 0.
void DecodePriorities(FieldReader& parent, core::AllocationRequest& req, bool agones,
                      std::vector<FieldError>& errors) {
  using P = core::AllocationPriority;
  parent.Array("priorities", [&](const json& j, const std::string& path) {
    FieldReader r(&j, path, &errors, /*exact_strings=*/true);
    if (agones) r.DiscardUnknown();
    P p;
    // One of two names (or, from Agones, their numbers 0 and 1): true for the second.
    auto either = [&](const char* key, const char* first, const char* second, bool required) {
      const json* v = r.Raw(key);
      if (!v) {
        if (required) r.Error(r.PathOf(key), std::string("required: ") + first + " or " + second);
        return false;
      }
      if (*v == first || (agones && *v == 0)) return false;
      if (*v == second || (agones && *v == 1)) return true;
      r.Error(r.PathOf(key),
              std::string("must be ") + first + " or " + second + ", got " + v->dump());
      return false;
    };
    p.type = either("type", "Counter", "List", !agones) ? P::Type::kList : P::Type::kCounter;
    p.key = r.String("key").value_or("");
    p.order = either("order", "Ascending", "Descending", false) ? P::Order::kDescending
                                                                : P::Order::kAscending;
    r.RejectUnknown();
    req.priorities.push_back(std::move(p));
  });
}

core::StatusOr<core::AllocationRequest> Finish(core::AllocationRequest req,
                                               std::vector<FieldError> errors) {
  if (!errors.empty()) return core::Status::Invalid(std::move(errors));
  auto problems = core::Validate(req);
  if (!problems.empty()) return core::Status::Invalid(std::move(problems));
  return req;
}

// Answers are written in key order, as the API's other JSON is.
void Ports(JsonWriter& w, const core::GameServer& gs) {
  w.Key("ports").BeginArray();
  for (const auto& p : gs.status.ports)
    w.BeginObject().Field("name", p.name).Field("port", int64_t{p.port}).EndObject();
  w.EndArray();
}

void Metadata(JsonWriter& w, const core::GameServer& gs) {
  w.Key("metadata").BeginObject();
  w.Key("annotations").StringMap(gs.meta.annotations);
  w.Key("labels").StringMap(gs.meta.labels);
  w.EndObject();
}

}  // namespace

core::StatusOr<core::AllocationRequest> DecodeAllocationRequest(const json& body) {
  std::vector<FieldError> errors;
  if (!body.is_object()) return core::InvalidArgument("the body must be a JSON object", "body");
  FieldReader r(&body, "", &errors, /*exact_strings=*/true);
  core::AllocationRequest req;
  req.fleet = r.String("fleet").value_or("");
  r.Array("selectors", [&](const json& s, const std::string& path) {
    req.selectors.push_back(DecodeSelector(s, path, false, errors));
  });
  if (auto s = r.String("scheduling")) {
    if (auto v = core::ParseAllocationScheduling(*s))
      req.scheduling = *v;
    else
      r.Error("scheduling", "must be Packed, Distributed or NewestNode");
  }
  DecodeMetaPatch(r, "metadata", req);
  if (auto session = r.String("sessionId")) {
    if (session->empty())  // an unset variable in a script?
      r.Error("sessionId", "must not be empty; leave it out to have one made");
    req.session_id = *session;
  }
  req.session_cookie = r.String("sessionCookie").value_or("");
  req.initial_players = r.Strings("initialPlayers").value_or(std::vector<std::string>{});
  DecodeActions(r, req);
  DecodePriorities(r, req, false, errors);
  r.RejectUnknown();
  return Finish(std::move(req), std::move(errors));
}

std::string EncodeAllocationAnswer(const core::GameServer& gs, const std::string& session_id) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject().Field("address", gs.status.address).Field("fleet", gs.fleet);
  w.Field("gameServer", gs.meta.name);
  Metadata(w, gs);
  w.Field("node", gs.status.node);
  Ports(w, gs);
  w.Field("sessionId", session_id).EndObject();
  return out;
}

core::StatusOr<core::AllocationRequest> DecodeAgonesAllocation(const json& body) {
  std::vector<FieldError> errors;
  if (!body.is_object()) return core::InvalidArgument("the body must be a JSON object", "body");
  FieldReader r(&body, "", &errors, /*exact_strings=*/true);
  // Agones' gateway drops fields it does not know (a client built for a newer Agones
  // still allocates), and reads null as not set: so does this door.
  r.DiscardUnknown();
  core::AllocationRequest req;
  r.Ignore("namespace");            // one namespace in embedded mode
  r.Ignore("multiClusterSetting");  // one cluster
  DecodeActions(r, req);
  DecodePriorities(r, req, true, errors);
  r.Array("gameServerSelectors", [&](const json& s, const std::string& path) {
    req.selectors.push_back(DecodeSelector(s, path, true, errors));
  });
  if (req.selectors.empty()) {
    // The deprecated form, as Agones converts it: the preferred selectors in order, then
    // the required one. A preferred selector stands alone: when one matches, the required
    // one is not considered (Agones' GameServerAllocation reference says so).
    r.Array("preferredGameServerSelectors", [&](const json& s, const std::string& path) {
      req.selectors.push_back(DecodeSelector(s, path, true, errors));
    });
    if (const json* rq = r.Raw("requiredGameServerSelector"))
      req.selectors.push_back(DecodeSelector(*rq, "requiredGameServerSelector", true, errors));
  } else {
    r.Ignore("requiredGameServerSelector");
    r.Ignore("preferredGameServerSelectors");
  }
  if (const json* s = r.Raw("scheduling")) {
    if (*s == "Packed" || *s == 0)
      req.scheduling = core::AllocationScheduling::kPacked;
    else if (*s == "Distributed" || *s == 1)
      req.scheduling = core::AllocationScheduling::kDistributed;
    else
      r.Error("scheduling", "must be Packed or Distributed");
  }
  if (r.present("metadata")) {
    DecodeMetaPatch(r, "metadata", req);
    r.Ignore("metaPatch");
  } else {
    DecodeMetaPatch(r, "metaPatch", req);
  }
  r.RejectUnknown();
  return Finish(std::move(req), std::move(errors));
}

std::string EncodeAgonesAllocationResponse(const core::GameServer& gs) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject().Field("address", gs.status.address);
  w.Key("addresses").BeginArray();
  if (!gs.status.address.empty())
    w.BeginObject().Field("address", gs.status.address).Field("type", "InternalIP").EndObject();
  w.EndArray();
  // Counters and lists as the gateway writes them: each number an Int64Value, so a
  // string; empty maps written too (it emits unset fields).
  w.Key("counters").BeginObject();
  for (const auto& [name, c] : gs.status.counters)
    w.Key(name)
        .BeginObject()
        .Field("capacity", std::to_string(c.capacity))
        .Field("count", std::to_string(c.count))
        .EndObject();
  w.EndObject();
  w.Field("gameServerName", gs.meta.name);
  w.Key("lists").BeginObject();
  for (const auto& [name, l] : gs.status.lists) {
    w.Key(name).BeginObject().Field("capacity", std::to_string(l.capacity));
    w.Key("values").BeginArray();
    for (const auto& v : l.values) w.String(v);
    w.EndArray().EndObject();
  }
  w.EndObject();
  Metadata(w, gs);
  w.Field("nodeName", gs.status.node);
  Ports(w, gs);
  w.Field("source", "local").EndObject();
  return out;
}

namespace {

// Thundernetes decodes its request with Go's encoding/json, which matches a key to a field
// ignoring case (an exact match first): {"BuildID": ...} from a client serialising in
// PascalCase is the same request. The member of `body` that `key` names, or nullptr.
const json* FieldIgnoringCase(const json& body, const char* key) {
  if (auto it = body.find(key); it != body.end()) return &*it;
  const std::string_view want(key);
  for (auto it = body.begin(); it != body.end(); ++it) {
    const std::string& have = it.key();
    if (have.size() == want.size() &&
        std::equal(have.begin(), have.end(), want.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        }))
      return &*it;
  }
  return nullptr;
}

}  // namespace

core::StatusOr<core::AllocationRequest> DecodeThundernetesAllocation(const json& body) {
  if (!body.is_object()) return core::InvalidArgument("the body must be a JSON object", "body");
  std::vector<FieldError> errors;
  core::AllocationRequest req;
  auto str = [&](const char* key, bool required) -> std::string {
    const json* v = FieldIgnoringCase(body, key);
    if (!v || v->is_null() || (v->is_string() && v->get_ref<const std::string&>().empty())) {
      if (required) errors.push_back({key, "required"});
      return "";
    }
    if (!v->is_string()) {
      errors.push_back({key, "must be a string"});
      return "";
    }
    return v->get<std::string>();
  };
  req.build_id = str("buildID", true);
  req.session_id = str("sessionID", true);
  req.session_cookie = str("sessionCookie", false);
  if (!req.build_id.empty() && !core::IsUuid(req.build_id))
    errors.push_back({"buildID", "must be a UUID"});
  if (!req.session_id.empty() && !core::IsUuid(req.session_id))
    errors.push_back({"sessionID", "must be a UUID"});
  if (const json* initial = FieldIgnoringCase(body, "initialPlayers");
      initial && !initial->is_null()) {
    const json& players = *initial;
    if (!players.is_array()) {
      errors.push_back({"initialPlayers", "must be a list of strings"});
    } else {
      for (const json& p : players) {
        if (p.is_string())
          req.initial_players.push_back(p.get<std::string>());
        else
          errors.push_back({"initialPlayers", "must be a list of strings"});
      }
    }
  }
  req.scheduling = core::AllocationScheduling::kNewestNode;  // Thundernetes drains old nodes
  return Finish(std::move(req), std::move(errors));
}

std::string EncodeThundernetesResponse(const core::GameServer& gs, const std::string& session_id) {
  std::string ports;
  for (size_t i = 0; i < gs.status.ports.size(); ++i) {
    const auto& p = gs.status.ports[i];
    int container_port = p.port;
    for (const auto& spec : gs.spec->ports)
      if (spec.name == p.name && spec.container_port) container_port = spec.container_port;
    if (i) ports += ",";
    ports += std::to_string(container_port) + ":" + std::to_string(p.port);
  }
  std::string out;
  JsonWriter(out)
      .BeginObject()
      .Field("IPV4Address", gs.status.address)
      .Field("Ports", ports)
      .Field("SessionID", session_id)
      .EndObject();
  return out;
}

}  // namespace muster::codec
