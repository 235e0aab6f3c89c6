#include "codec/json_codec.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <ctime>
#include <functional>
#include <set>

#include "codec/field_reader.h"
#include "codec/gameserver_text.h"

namespace muster::codec {
namespace {

using core::FieldError;
using core::StatusOr;

constexpr int64_t kMaxPort = 65535;
constexpr int64_t kMaxSeconds = 24 * 3600;

const char* const kPodTemplateKeys[] = {"metadata", "spec"};
const char* const kPodSpecKeys[] = {"initContainers",
                                    "volumes",
                                    "nodeSelector",
                                    "tolerations",
                                    "affinity",
                                    "serviceAccountName",
                                    "restartPolicy",
                                    "hostNetwork",
                                    "priorityClassName",
                                    "securityContext",
                                    "imagePullSecrets",
                                    "dnsPolicy",
                                    "hostname",
                                    "subdomain",
                                    "topologySpreadConstraints",
                                    "runtimeClassName",
                                    "schedulerName",
                                    "nodeName",
                                    "automountServiceAccountToken",
                                    "enableServiceLinks"};
const char* const kContainerKeys[] = {"name",
                                      "image",
                                      "ports",
                                      "resources",
                                      "imagePullPolicy",
                                      "volumeMounts",
                                      "securityContext",
                                      "livenessProbe",
                                      "readinessProbe",
                                      "startupProbe",
                                      "lifecycle",
                                      "stdin",
                                      "tty",
                                      "envFrom",
                                      "terminationMessagePath",
                                      "terminationMessagePolicy"};

template <size_t N>
void IgnoreAll(FieldReader& r, const char* const (&keys)[N]) {
  for (const char* k : keys) r.Ignore(k);
}

void DecodeContainer(const json& j, const std::string& path, bool first, core::GameServerSpec& spec,
                     std::vector<FieldError>& errors) {
  FieldReader c(&j, path, &errors);
  IgnoreAll(c, kContainerKeys);
  auto command = c.Strings("command");
  auto args = c.Strings("args");
  auto dir = c.String("workingDir");
  std::vector<core::EnvVar> env;
  c.Array("env", [&](const json& e, const std::string& p) {
    FieldReader r(&e, p, &errors);
    core::EnvVar var;
    var.name = r.String("name").value_or("");
    auto value = r.String("value");
    if (r.present("valueFrom")) {
      r.Ignore("valueFrom");
      var.has_value = value.has_value();
    }
    var.value = value.value_or("");
    r.RejectUnknown();
    env.push_back(std::move(var));
  });
  c.RejectUnknown();
  if (!first) return;
  spec.process.command = command.value_or(std::vector<std::string>{});
  spec.process.args = args.value_or(std::vector<std::string>{});
  spec.process.working_dir = dir.value_or("");
  spec.process.env = std::move(env);
}

void DecodePodTemplate(FieldReader& parent, core::GameServerSpec& spec,
                       std::vector<FieldError>& errors) {
  const json* raw = parent.Raw("template");
  spec.pod_template_json = raw ? raw->dump(-1, ' ', false, json::error_handler_t::replace) : "";
  FieldReader t(raw, parent.PathOf("template"), &errors);
  t.Ignore("metadata");
  FieldReader pod = t.Object("spec");
  IgnoreAll(pod, kPodSpecKeys);
  spec.termination_grace_s =
      static_cast<int>(pod.Int("terminationGracePeriodSeconds", -1, kMaxSeconds).value_or(30));
  int index = 0;
  pod.Array("containers", [&](const json& c, const std::string& p) {
    DecodeContainer(c, p, index == 0, spec, errors);
    ++index;
  });
  spec.containers = index;
  pod.RejectUnknown();
  t.RejectUnknown();
}

void DecodePort(const json& j, const std::string& path, core::GameServerSpec& spec,
                std::vector<FieldError>& errors) {
  FieldReader r(&j, path, &errors);
  core::PortSpec port;
  port.name = r.String("name").value_or("");
  if (auto policy = r.String("portPolicy")) {
    if (auto p = core::ParsePortPolicy(*policy))
      port.policy = *p;
    else
      r.Error(r.PathOf("portPolicy"), "must be Dynamic, Static, Passthrough or None");
  }
  if (auto proto = r.String("protocol")) {
    if (auto p = core::ParseProtocol(*proto))
      port.protocol = *p;
    else
      r.Error(r.PathOf("protocol"), "must be UDP, TCP or TCPUDP");
  }
  port.container_port = static_cast<int>(r.Int("containerPort", 1, kMaxPort).value_or(0));
  port.host_port = static_cast<int>(r.Int("hostPort", 1, kMaxPort).value_or(0));
  r.Ignore("container");
  r.RejectUnknown();
  spec.ports.push_back(std::move(port));
}

// counters{name: {count, capacity}}, lists{name: {capacity, values}}, players{initialCapacity}.
void DecodeCountersAndLists(FieldReader& r, core::GameServerSpec& spec) {
  constexpr int64_t kMax = int64_t{1} << 53;
  r.Members("counters", [&](const std::string& name, FieldReader& c) {
    core::CounterStatus counter;
    counter.count = c.Int("count", 0, kMax).value_or(0);
    counter.capacity = c.Int("capacity", 0, kMax).value_or(core::kDefaultCapacity);
    if (counter.count > counter.capacity) c.Error(c.PathOf("count"), "must not exceed capacity");
    spec.counters[name] = counter;
  });
  r.Members("lists", [&](const std::string& name, FieldReader& l) {
    core::ListStatus list;
    list.capacity = l.Int("capacity", 0, kMax).value_or(core::kDefaultCapacity);
    list.values = l.Strings("values").value_or(std::vector<std::string>{});
    if (static_cast<int64_t>(list.values.size()) > list.capacity)
      l.Error(l.PathOf("values"), "more values than capacity");
    std::set<std::string> seen;
    for (const auto& v : list.values)
      if (!seen.insert(v).second) l.Error(l.PathOf("values"), "duplicate value \"" + v + "\"");
    spec.lists[name] = list;
  });
  FieldReader p = r.Object("players");  // absent or null: none, as for counters and lists
  spec.initial_player_capacity = p.Int("initialCapacity", 0, kMax).value_or(0);
  p.RejectUnknown();
}

// `r` reads a GameServerSpec object (GameServer.spec or Fleet.spec.template.spec).
void DecodeGameServerSpec(FieldReader& r, core::GameServerSpec& spec,
                          std::vector<FieldError>& errors) {
  r.Array("ports",
          [&](const json& p, const std::string& path) { DecodePort(p, path, spec, errors); });
  FieldReader h = r.Object("health");
  spec.health.disabled = h.Bool("disabled").value_or(false);
  spec.health.initial_delay_s =
      static_cast<int>(h.Int("initialDelaySeconds", 0, kMaxSeconds).value_or(0));
  spec.health.period_s = static_cast<int>(h.Int("periodSeconds", 1, kMaxSeconds).value_or(0));
  spec.health.failure_threshold = static_cast<int>(h.Int("failureThreshold", 1, 1000).value_or(0));
  h.RejectUnknown();
  if (auto s = r.String("scheduling")) {
    if (auto v = core::ParseScheduling(*s))
      spec.scheduling = *v;
    else
      r.Error(r.PathOf("scheduling"), "must be Packed or Distributed");
  }
  DecodeCountersAndLists(r, spec);
  DecodePodTemplate(r, spec, errors);
  r.RejectUnknown();
}

// spec.external: a server Muster does not start: {address, ports[{name, port}]}.
void DecodeExternal(FieldReader& spec, core::GameServer& gs, std::vector<FieldError>& errors) {
  gs.external = true;
  FieldReader ext = spec.Object("external");
  gs.status.address = ext.String("address").value_or("");
  gs.external_sdk = ext.Bool("sdk").value_or(true);
  if (gs.status.address.empty())
    ext.Error("spec.external.address", "required: where players reach it");
  ext.Array("ports", [&](const json& p, const std::string& path) {
    FieldReader r(&p, path, &errors);
    core::AssignedPort port;
    port.name = r.String("name").value_or("");
    port.port = static_cast<int>(r.Int("port", 1, kMaxPort).value_or(0));
    if (port.name.empty()) r.Error(path + ".name", "required");
    if (!r.present("port")) r.Error(path + ".port", "required");
    for (const auto& other : gs.status.ports)
      if (other.name == port.name && !port.name.empty())
        r.Error(path + ".name", "duplicate port name \"" + port.name + "\"");
    r.RejectUnknown();
    gs.status.ports.push_back(port);
  });
  ext.RejectUnknown();
}

void DecodeMeta(FieldReader& m, core::ObjectMeta& meta, Mode mode) {
  meta.name = m.String("name").value_or("");
  meta.labels = m.StringMap("labels").value_or(core::Labels{});
  meta.annotations = m.StringMap("annotations").value_or(core::Labels{});
  if (auto rv = m.String("resourceVersion")) {  // digits only: no sign, no space, no wrap
    const char* end = rv->data() + rv->size();
    auto [at, ec] = std::from_chars(rv->data(), end, meta.version);
    if (rv->empty() || (*rv)[0] < '0' || (*rv)[0] > '9' || ec != std::errc() || at != end)
      m.Error(m.PathOf("resourceVersion"),
              "must be a resourceVersion as a GET answers it: a whole number in a string, such as "
              "\"7\"");
  }
  auto created = m.String("creationTimestamp");
  auto deleted = m.String("deletionTimestamp");
  m.Ignore("uid");
  m.Ignore("namespace");
  m.Ignore("ownerReferences");
  if (mode == Mode::kStored) {
    meta.created_ms = created ? ParseTime(*created).value_or(0) : 0;
    meta.deletion_ms = deleted ? ParseTime(*deleted).value_or(0) : 0;
  }
  m.RejectUnknown();
}

// Reads apiVersion/kind/metadata; leaves spec/status to the caller.
void DecodeEnvelope(FieldReader& doc, const char* kind, core::ObjectMeta& meta, Mode mode) {
  auto api = doc.String("apiVersion");
  auto k = doc.String("kind");
  if (mode == Mode::kManifest) {
    if (!api)
      doc.Error("apiVersion", std::string("required: ") + core::kApiVersion);
    else if (*api != core::kApiVersion)
      doc.Error("apiVersion", "must be " + std::string(core::kApiVersion));
    if (!k)
      doc.Error("kind", std::string("required: ") + kind);
    else if (*k != kind)
      doc.Error("kind", "must be " + std::string(kind) + ", got \"" + *k + "\"");
  }
  FieldReader m = doc.Object("metadata");
  if (!doc.present("metadata")) doc.Error("metadata", "required");
  DecodeMeta(m, meta, mode);
}

std::optional<std::string> OwnerFleet(const json& doc) {
  if (!doc.contains("metadata") || !doc["metadata"].is_object()) return std::nullopt;
  const json& m = doc["metadata"];
  if (!m.contains("ownerReferences") || !m["ownerReferences"].is_array()) return std::nullopt;
  for (const json& ref : m["ownerReferences"])
    if (ref.value("kind", "") == "Fleet") return ref.value("name", "");
  return std::nullopt;
}

void DecodeGameServerStatus(const json& s, core::GameServerStatus& st) {
  if (!s.is_object()) return;
  st.state =
      core::ParseState(s.value("state", "Creating")).value_or(core::GameServerState::kCreating);
  st.node = s.value("nodeName", "");
  st.address = s.value("address", "");
  if (s.contains("ports")) {  // as stored: replaces what a registered server's spec implied
    st.ports.clear();
    for (const json& p : s["ports"]) {
      core::AssignedPort port{p.value("name", ""), p.value("port", 0)};
      // An earlier Muster doubled a registered server's ports on restart and stored them
      // so at the server's next write: each is read once.
      if (std::find(st.ports.begin(), st.ports.end(), port) == st.ports.end())
        st.ports.push_back(std::move(port));
    }
  }
  if (s.contains("sdkPorts")) {
    st.sdk_grpc_port = s["sdkPorts"].value("grpc", 0);
    st.sdk_http_port = s["sdkPorts"].value("http", 0);
  }
  st.pid = s.value("pid", 0);
  st.process_start_ticks = s.value("processStartTicks", uint64_t{0});
  st.reason = s.value("reason", "");
  st.message = s.value("message", "");
  st.state_since_ms = ParseTime(s.value("stateSince", "")).value_or(0);
  st.ready_ms = ParseTime(s.value("readyTime", "")).value_or(0);
  st.reserved_until_ms = ParseTime(s.value("reservedUntil", "")).value_or(0);
  if (s.contains("players") && s["players"].is_object()) {
    const json& p = s["players"];
    st.player_count = p.value("count", int64_t{0});
    st.player_capacity = p.value("capacity", int64_t{0});
    st.player_ids = p.value("ids", std::vector<std::string>{});
  }
  if (s.contains("counters") && s["counters"].is_object())
    for (const auto& [name, c] : s["counters"].items())
      st.counters[name] = {c.value("count", int64_t{0}), c.value("capacity", int64_t{0})};
  if (s.contains("lists") && s["lists"].is_object())
    for (const auto& [name, l] : s["lists"].items())
      st.lists[name] = {l.value("capacity", int64_t{0}),
                        l.value("values", std::vector<std::string>{})};
  if (s.contains("allocation") && s["allocation"].is_object()) {
    const json& a = s["allocation"];
    core::AllocationInfo info;
    info.session_id = a.value("sessionId", "");
    info.session_cookie = a.value("sessionCookie", "");
    if (a.contains("initialPlayers"))
      info.initial_players = a["initialPlayers"].get<std::vector<std::string>>();
    info.allocated_ms = ParseTime(a.value("allocatedAt", "")).value_or(0);
    info.joined = a.value("joinedSessions", std::vector<std::string>{});
    st.allocation = std::move(info);
  }
}

StatusOr<core::Fleet> Finish(core::Fleet fleet, std::vector<FieldError> errors, Mode mode) {
  if (mode == Mode::kStored) return fleet;
  if (!errors.empty()) return core::Status::Invalid(std::move(errors));
  core::ApplyDefaults(fleet);
  auto problems = core::Validate(fleet);
  if (!problems.empty()) return core::Status::Invalid(std::move(problems));
  return fleet;
}

json EncodeMeta(const core::ObjectMeta& meta) {
  json m = {{"name", meta.name}};
  if (!meta.labels.empty()) m["labels"] = meta.labels;
  if (!meta.annotations.empty()) m["annotations"] = meta.annotations;
  if (meta.version) m["resourceVersion"] = std::to_string(meta.version);
  if (meta.created_ms) m["creationTimestamp"] = FormatTime(meta.created_ms);
  if (meta.deletion_ms) m["deletionTimestamp"] = FormatTime(meta.deletion_ms);
  return m;
}

}  // namespace

StatusOr<std::string> ManifestKind(const json& doc) {
  if (!doc.is_object()) return core::InvalidArgument("a manifest must be an object", "(document)");
  if (!doc.contains("apiVersion") || !doc["apiVersion"].is_string())
    return core::InvalidArgument(std::string("required: ") + core::kApiVersion, "apiVersion");
  if (doc["apiVersion"] != core::kApiVersion)
    return core::InvalidArgument(std::string("must be ") + core::kApiVersion, "apiVersion");
  if (!doc.contains("kind") || !doc["kind"].is_string())
    return core::InvalidArgument("required: Fleet or GameServer", "kind");
  std::string kind = doc["kind"];
  if (kind != "Fleet" && kind != "GameServer")
    return core::InvalidArgument("unknown kind \"" + kind + "\"; must be Fleet or GameServer",
                                 "kind");
  return kind;
}

StatusOr<core::Fleet> DecodeFleet(const json& doc, Mode mode) {
  std::vector<FieldError> errors;
  core::Fleet fleet;
  FieldReader d(&doc, "", &errors);
  DecodeEnvelope(d, "Fleet", fleet.meta, mode);
  FieldReader spec = d.Object("spec");
  if (!d.present("spec")) d.Error("spec", "required");
  fleet.spec.replicas = static_cast<int>(spec.Int("replicas", INT32_MIN, INT32_MAX).value_or(0));
  fleet.spec.build_id = spec.String("buildID").value_or("");
  if (auto s = spec.String("scheduling")) {
    if (auto v = core::ParseScheduling(*s))
      fleet.spec.scheduling = *v;
    else
      spec.Error("spec.scheduling", "must be Packed or Distributed");
  }
  FieldReader tmpl = spec.Object("template");
  if (spec.present("template") || mode == Mode::kStored) {
    FieldReader tm = tmpl.Object("metadata");
    fleet.spec.tmpl.labels = tm.StringMap("labels").value_or(core::Labels{});
    fleet.spec.tmpl.annotations = tm.StringMap("annotations").value_or(core::Labels{});
    tm.RejectUnknown();
    FieldReader ts = tmpl.Object("spec");
    if (!tmpl.present("spec")) tmpl.Error("spec.template.spec", "required");
    DecodeGameServerSpec(ts, fleet.spec.tmpl.spec, errors);
    if (!ts.present("template") && mode == Mode::kManifest)
      ts.Error("spec.template.spec.template", "required: the pod template to run");
    tmpl.RejectUnknown();
  } else {
    spec.Error("spec.template", "required: the game server template");
  }
  spec.RejectUnknown();
  fleet.spec.tmpl.spec.scheduling =
      fleet.spec.scheduling;  // the fleet's own setting is the one that counts
  if (mode == Mode::kStored && doc.contains("status") && doc["status"].is_object()) {
    const json& s = doc["status"];
    fleet.status.replicas = s.value("replicas", 0);
    fleet.status.ready = s.value("readyReplicas", 0);
    fleet.status.allocated = s.value("allocatedReplicas", 0);
    fleet.status.reserved = s.value("reservedReplicas", 0);
    fleet.status.consecutive_failures = s.value("consecutiveFailures", 0);
    fleet.status.backoff_until_ms = ParseTime(s.value("backoffUntil", "")).value_or(0);
    fleet.status.reason = s.value("reason", "");
    fleet.status.message = s.value("message", "");
  }
  d.Ignore("status");
  d.RejectUnknown();
  return Finish(std::move(fleet), std::move(errors), mode);
}

StatusOr<core::GameServer> DecodeGameServer(const json& doc, Mode mode) {
  std::vector<FieldError> errors;
  core::GameServer gs;
  FieldReader d(&doc, "", &errors);
  DecodeEnvelope(d, "GameServer", gs.meta, mode);
  FieldReader spec = d.Object("spec");
  if (!d.present("spec")) d.Error("spec", "required");
  bool health_given = spec.present("health");
  if (spec.present("external")) {
    DecodeExternal(spec, gs, errors);
    if (mode == Mode::kManifest) gs.fleet = spec.String("fleet").value_or("");
  } else {
    spec.Ignore("fleet");
    if (spec.present("fleet") && mode == Mode::kManifest)
      spec.Error("spec.fleet",
                 "only a registered (spec.external) game server may name its fleet; "
                 "a fleet's own servers come from the fleet");
    if (!spec.present("template") && mode == Mode::kManifest)
      spec.Error("spec.template",
                 "required: the pod template to run (or spec.external for a "
                 "server Muster does not start)");
  }
  DecodeGameServerSpec(spec, gs.spec.mut(), errors);
  if (gs.external && !health_given)
    gs.spec.mut().health.disabled = true;  // it may never call the SDK
  d.Ignore("status");
  d.RejectUnknown();
  if (mode == Mode::kStored) {
    gs.fleet = OwnerFleet(doc).value_or("");
    if (doc.contains("status")) DecodeGameServerStatus(doc["status"], gs.status);
    return gs;
  }
  if (!errors.empty()) return core::Status::Invalid(std::move(errors));
  core::ApplyDefaults(gs);
  auto problems = core::Validate(gs);
  if (!problems.empty()) return core::Status::Invalid(std::move(problems));
  return gs;
}

json EncodeFleet(const core::Fleet& fleet) {
  const core::FleetStatus& s = fleet.status;
  json status = {{"replicas", s.replicas},
                 {"readyReplicas", s.ready},
                 {"allocatedReplicas", s.allocated},
                 {"reservedReplicas", s.reserved}};
  if (s.consecutive_failures) status["consecutiveFailures"] = s.consecutive_failures;
  if (s.backoff_until_ms) status["backoffUntil"] = FormatTime(s.backoff_until_ms);
  if (!s.reason.empty()) status["reason"] = s.reason;
  if (!s.message.empty()) status["message"] = s.message;
  json tmpl_meta = json::object();
  if (!fleet.spec.tmpl.labels.empty()) tmpl_meta["labels"] = fleet.spec.tmpl.labels;
  if (!fleet.spec.tmpl.annotations.empty()) tmpl_meta["annotations"] = fleet.spec.tmpl.annotations;
  json spec_t = json::parse(GameServerSpecText(fleet.spec.tmpl.spec, false));
  return {{"apiVersion", core::kApiVersion},
          {"kind", "Fleet"},
          {"metadata", EncodeMeta(fleet.meta)},
          {"spec",
           {{"replicas", fleet.spec.replicas},
            {"buildID", fleet.spec.build_id},
            {"scheduling", core::SchedulingName(fleet.spec.scheduling)},
            {"template", {{"metadata", tmpl_meta}, {"spec", spec_t}}}}},
          {"status", status}};
}

json EncodeGameServer(const core::GameServer& gs) { return json::parse(GameServerText(gs)); }

json EncodeNode(const core::Node& node) {
  json out = {{"name", node.name}, {"address", node.address}};
  if (node.maintenance_ms) out["maintenanceAt"] = FormatTime(node.maintenance_ms);
  return out;
}

core::Node DecodeNode(const json& j) {
  return {j.value("name", ""), j.value("address", ""),
          ParseTime(j.value("maintenanceAt", "")).value_or(0)};
}

json EncodeToken(const core::ApiToken& t) {
  return {{"name", t.name},
          {"scope", t.scope},
          {"sha256", t.sha256_hex},
          {"createdAt", FormatTime(t.created_ms)}};
}

core::ApiToken DecodeToken(const json& j) {
  return {j.value("name", ""), j.value("scope", ""), j.value("sha256", ""),
          ParseTime(j.value("createdAt", "")).value_or(0)};
}

// Civil date from days since 1970-01-01 (proleptic Gregorian), without the C library:
// this runs for every stored status row, where strftime was a measurable cost.
std::string FormatTime(core::TimeMs ms) {
  if (ms <= 0) return "";
  int64_t days = ms / 86'400'000, rem = ms % 86'400'000;
  // Shift the era to start on 0000-03-01 so that leap days fall at a year's end.
  days += 719'468;
  const int64_t era = days / 146'097;
  const int64_t doe = days - era * 146'097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36'524 - doe / 146'096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  const int64_t hour = rem / 3'600'000, minute = rem / 60'000 % 60, second = rem / 1000 % 60,
                milli = rem % 1000;
  char out[25] = "0000-00-00T00:00:00.000Z";
  auto put = [&](int at, int64_t value, int digits) {
    for (int i = digits - 1; i >= 0; --i, value /= 10)
      out[at + i] = static_cast<char>('0' + value % 10);
  };
  put(0, year, 4);
  put(5, month, 2);
  put(8, day, 2);
  put(11, hour, 2);
  put(14, minute, 2);
  put(17, second, 2);
  put(20, milli, 3);
  return std::string(out, 24);
}

std::optional<core::TimeMs> ParseTime(const std::string& text) {
  if (text.empty()) return std::nullopt;
  std::tm tm{};
  int millis = 0;
  char rest[8] = {0};
  int n = std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3d%7s", &tm.tm_year, &tm.tm_mon,
                      &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &millis, rest);
  if (n < 6) return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<core::TimeMs>(timegm(&tm)) * 1000 + millis;
}

std::optional<core::TimeMs> ParseUtcTimeStrict(const std::string& text) {
  auto digits = [&](size_t at, size_t n, int* out) {
    if (at + n > text.size()) return false;
    *out = 0;
    for (size_t i = at; i < at + n; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(text[i]))) return false;
      *out = *out * 10 + (text[i] - '0');
    }
    return true;
  };
  int year, month, day, hour, minute, second;
  if (!digits(0, 4, &year) || !digits(5, 2, &month) || !digits(8, 2, &day) ||
      !digits(11, 2, &hour) || !digits(14, 2, &minute) || !digits(17, 2, &second) ||
      text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' || text[16] != ':')
    return std::nullopt;
  size_t at = 19;
  int millis = 0;
  if (at < text.size() && text[at] == '.') {
    size_t first = ++at;
    while (at < text.size() && std::isdigit(static_cast<unsigned char>(text[at]))) {
      if (at - first < 3) millis = millis * 10 + (text[at] - '0');
      ++at;
    }
    if (at == first || at - first > 9) return std::nullopt;
    for (size_t n = at - first; n < 3; ++n) millis *= 10;  // ".5" is 500 ms
  }
  if (at + 1 != text.size() || text[at] != 'Z') return std::nullopt;
  if (year < 1970 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59)
    return std::nullopt;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  const time_t t = timegm(&tm);
  std::tm back{};
  if (!gmtime_r(&t, &back) || back.tm_mday != day || back.tm_mon != month - 1)
    return std::nullopt;  // 31 April, 29 February of a common year
  const core::TimeMs ms = static_cast<core::TimeMs>(t) * 1000 + millis;
  if (ms <= 0) return std::nullopt;  // the epoch itself means "no time" in Muster's objects
  return ms;
}

}  // namespace muster::codec
