#include "core/model.h"

#include <cctype>

namespace muster::core {

const char* CodeName(Code code) {
  switch (code) {
    case Code::kOk: return "Ok";
    case Code::kInvalidArgument: return "InvalidArgument";
    case Code::kUnauthenticated: return "Unauthenticated";
    case Code::kPermissionDenied: return "PermissionDenied";
    case Code::kNotFound: return "NotFound";
    case Code::kAlreadyExists: return "AlreadyExists";
    case Code::kFailedPrecondition: return "FailedPrecondition";
    case Code::kAborted: return "Conflict";
    case Code::kResourceExhausted: return "ResourceExhausted";
    case Code::kOutOfRange: return "OutOfRange";
    case Code::kUnavailable: return "Unavailable";
    case Code::kInternal: return "Internal";
  }
  return "Unknown";
}

Status Status::Invalid(std::vector<FieldError> problems) {
  std::string message;
  for (const auto& p : problems) {
    if (!message.empty()) message += "; ";
    message += p.field.empty() ? p.message : p.field + ": " + p.message;
  }
  Status s(Code::kInvalidArgument, message, problems.empty() ? "" : problems.front().field);
  s.problems_ = std::move(problems);
  return s;
}

const char* PortPolicyName(PortPolicy p) {
  switch (p) {
    case PortPolicy::kDynamic: return "Dynamic";
    case PortPolicy::kStatic: return "Static";
    case PortPolicy::kPassthrough: return "Passthrough";
    case PortPolicy::kNone: return "None";
  }
  return "";
}
const char* ProtocolName(Protocol p) {
  switch (p) {
    case Protocol::kUDP: return "UDP";
    case Protocol::kTCP: return "TCP";
    case Protocol::kTCPUDP: return "TCPUDP";
  }
  return "";
}
const char* SchedulingName(Scheduling s) {
  return s == Scheduling::kPacked ? "Packed" : "Distributed";
}

std::optional<PortPolicy> ParsePortPolicy(const std::string& s) {
  for (auto p :
       {PortPolicy::kDynamic, PortPolicy::kStatic, PortPolicy::kPassthrough, PortPolicy::kNone})
    if (s == PortPolicyName(p)) return p;
  return std::nullopt;
}
std::optional<Protocol> ParseProtocol(const std::string& s) {
  for (auto p : {Protocol::kUDP, Protocol::kTCP, Protocol::kTCPUDP})
    if (s == ProtocolName(p)) return p;
  return std::nullopt;
}
std::optional<Scheduling> ParseScheduling(const std::string& s) {
  for (auto p : {Scheduling::kPacked, Scheduling::kDistributed})
    if (s == SchedulingName(p)) return p;
  return std::nullopt;
}

const char* AllocationSchedulingName(AllocationScheduling s) {
  switch (s) {
    case AllocationScheduling::kPacked: return "Packed";
    case AllocationScheduling::kDistributed: return "Distributed";
    case AllocationScheduling::kNewestNode: return "NewestNode";
  }
  return "";
}

std::optional<AllocationScheduling> ParseAllocationScheduling(const std::string& s) {
  for (auto v : {AllocationScheduling::kPacked, AllocationScheduling::kDistributed,
                 AllocationScheduling::kNewestNode})
    if (s == AllocationSchedulingName(v)) return v;
  return std::nullopt;
}

bool IsUuid(const std::string& s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

bool SameUuid(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

void ApplyDefaults(GameServerSpec& spec) {
  if (spec.ports.size() == 1 && spec.ports[0].name.empty()) spec.ports[0].name = "default";
  for (auto& port : spec.ports) {
    if (port.policy == PortPolicy::kPassthrough && port.host_port > 0 && port.container_port == 0)
      port.container_port = port.host_port;
  }
  HealthSpec defaults;
  if (spec.health.initial_delay_s == 0) spec.health.initial_delay_s = defaults.initial_delay_s;
  if (spec.health.period_s == 0) spec.health.period_s = defaults.period_s;
  if (spec.health.failure_threshold == 0)
    spec.health.failure_threshold = defaults.failure_threshold;
}

void ApplyDefaults(Fleet& fleet) {
  ApplyDefaults(fleet.spec.tmpl.spec);
  fleet.spec.tmpl.spec.scheduling = fleet.spec.scheduling;
}

void ApplyDefaults(GameServer& gs) { ApplyDefaults(gs.spec.mut()); }

void AddFleetMeta(const Fleet& fleet, ObjectMeta& meta) {
  for (const auto& [k, v] : fleet.spec.tmpl.labels) meta.labels.emplace(k, v);
  for (const auto& [k, v] : fleet.spec.tmpl.annotations) meta.annotations.emplace(k, v);
  meta.labels[kFleetLabel] = fleet.meta.name;
  meta.labels[kAgonesFleetLabel] = fleet.meta.name;
}

GameServer NewGameServerFromFleet(const Fleet& fleet, const std::string& name, TimeMs now) {
  GameServer gs;
  gs.meta.name = name;
  AddFleetMeta(fleet, gs.meta);
  gs.meta.created_ms = now;
  GameServerSpec spec = fleet.spec.tmpl.spec;
  spec.scheduling = fleet.spec.scheduling;
  gs.spec = std::move(spec);
  gs.fleet = fleet.meta.name;
  gs.status.state = GameServerState::kCreating;
  gs.status.state_since_ms = now;
  InitStatusFromSpec(gs);
  return gs;
}

void InitStatusFromSpec(GameServer& gs) {
  gs.status.counters = gs.spec->counters;
  gs.status.lists = gs.spec->lists;
  gs.status.player_capacity = gs.spec->initial_player_capacity;
}

std::string PortEnvName(const std::string& port_name) {
  std::string out = "MUSTER_PORT_";
  for (char c : port_name) {
    unsigned char u = static_cast<unsigned char>(c);
    out += std::isalnum(u) ? static_cast<char>(std::toupper(u)) : '_';
  }
  return out;
}

}  // namespace muster::core
