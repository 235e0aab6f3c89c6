// Validate(): every problem at once, each with its field path.
#include <algorithm>
#include <cctype>
#include <set>

#include "core/model.h"

namespace muster::core {
namespace {

constexpr int kMaxReplicas = 100000;
constexpr size_t kMaxFleetNameLength = 57;  // leaves room for the "-xxxxx" server suffix

bool IsAlnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

bool IsDnsSubdomain(const std::string& s) {
  if (s.empty() || s.size() > 253) return false;
  size_t start = 0;
  while (start <= s.size()) {
    size_t dot = s.find('.', start);
    std::string label = s.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!IsValidName(label)) return false;
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return true;
}

// Where players can reach a server: a host name or IPv4 address (DNS labels, any case) or
// an IPv6 address (hex digits and colons, perhaps an IPv4 tail).
bool IsHostAddress(const std::string& s) {
  if (s.find(':') != std::string::npos) {
    if (s.size() > 45 || std::count(s.begin(), s.end(), ':') < 2) return false;  // not host:port
    for (char c : s)
      if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.') return false;
    return true;
  }
  // Digits and dots only: a dotted quad, each part 0-255 without leading zeros
  // ("300.1.2.3" is neither an address nor a name players could resolve).
  if (!s.empty() && s.find_first_not_of("0123456789.") == std::string::npos) {
    int parts = 0;
    for (size_t at = 0; at <= s.size(); ++parts) {
      size_t dot = s.find('.', at);
      if (dot == std::string::npos) dot = s.size();
      const std::string part = s.substr(at, dot - at);
      // No leading zero: resolvers read "010" as octal (8), so it is not what it seems.
      if (part.empty() || part.size() > 3 || (part.size() > 1 && part[0] == '0') ||
          std::stoi(part) > 255)
        return false;
      at = dot + 1;
    }
    return parts == 4;
  }
  std::string lower;
  for (char c : s) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return IsDnsSubdomain(lower);
}

// [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?, at most 63.
bool IsQualifiedNamePart(const std::string& s) {
  if (s.empty() || s.size() > 63) return false;
  if (!IsAlnum(s.front()) || !IsAlnum(s.back())) return false;
  for (char c : s)
    if (!IsAlnum(c) && c != '-' && c != '_' && c != '.') return false;
  return true;
}

void CheckMeta(const Labels& labels, const Labels& annotations, const std::string& path,
               std::vector<FieldError>& out) {
  for (const auto& [k, v] : labels) {
    if (!IsQualifiedName(k))
      out.push_back({path + ".labels", "invalid label key \"" + k + "\""});
    else if (!IsValidLabelValue(v))
      out.push_back({path + ".labels." + k, "invalid label value \"" + v + "\""});
  }
  for (const auto& [k, v] : annotations) {
    if (!IsQualifiedName(k))
      out.push_back({path + ".annotations", "invalid annotation key \"" + k + "\""});
  }
}

void CheckPorts(const std::vector<PortSpec>& ports, const std::string& prefix,
                std::vector<FieldError>& out) {
  std::set<std::string> names;
  std::set<std::string> env_names;
  for (size_t i = 0; i < ports.size(); ++i) {
    const PortSpec& p = ports[i];
    const std::string path = prefix + ".ports[" + std::to_string(i) + "]";
    if (p.name.empty()) {
      out.push_back({path + ".name", "required when there is more than one port"});
    } else if (!names.insert(p.name).second) {
      out.push_back({path + ".name", "duplicate port name \"" + p.name + "\""});
    } else if (!env_names.insert(PortEnvName(p.name)).second) {
      out.push_back({path + ".name", "\"" + p.name + "\" maps to the same " + PortEnvName(p.name) +
                                         " as another port"});
    }
    if (p.container_port < 0 || p.container_port > 65535)
      out.push_back({path + ".containerPort", "must be between 1 and 65535"});
    if (p.host_port < 0 || p.host_port > 65535) {
      out.push_back({path + ".hostPort", "must be between 1 and 65535"});
    } else if (p.policy == PortPolicy::kStatic && p.host_port == 0) {
      out.push_back({path + ".hostPort", "required with portPolicy Static"});
    } else if (p.policy == PortPolicy::kNone && p.host_port != 0) {
      out.push_back({path + ".hostPort", "must not be set with portPolicy None"});
    }
  }
}

void CheckHealth(const HealthSpec& h, const std::string& path, std::vector<FieldError>& out) {
  if (h.initial_delay_s < 0) out.push_back({path + ".initialDelaySeconds", "must not be negative"});
  if (h.period_s < 1) out.push_back({path + ".periodSeconds", "must be at least 1"});
  if (h.failure_threshold < 1) out.push_back({path + ".failureThreshold", "must be at least 1"});
}

void CheckProcess(const GameServerSpec& spec, const std::string& prefix,
                  std::vector<FieldError>& out) {
  const std::string pod = prefix + ".template.spec";
  if (spec.containers == 0) {
    out.push_back({pod + ".containers", "at least one container is required"});
    return;
  }
  const std::string c0 = pod + ".containers[0]";
  if (spec.process.command.empty() || spec.process.command.front().empty())
    out.push_back({c0 + ".command", "required: the program to run"});
  for (size_t i = 0; i < spec.process.env.size(); ++i) {
    if (spec.process.env[i].name.empty())
      out.push_back({c0 + ".env[" + std::to_string(i) + "].name", "required"});
  }
  if (spec.termination_grace_s < 0)
    out.push_back({pod + ".terminationGracePeriodSeconds", "must not be negative"});
}

void CheckName(const std::string& name, size_t max, std::vector<FieldError>& out) {
  if (name.empty()) {
    out.push_back({"metadata.name", "required"});
  } else if (!IsValidName(name) || name.size() > max) {
    out.push_back({"metadata.name",
                   "must be lower-case letters, digits and '-', start and end "
                   "with a letter or digit, at most " +
                       std::to_string(max) + " characters"});
  }
}

}  // namespace

bool IsValidName(const std::string& s) {
  if (s.empty() || s.size() > 63) return false;
  auto lower_alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!lower_alnum(s.front()) || !lower_alnum(s.back())) return false;
  for (char c : s)
    if (!lower_alnum(c) && c != '-') return false;
  return true;
}

bool IsQualifiedName(const std::string& key) {
  size_t slash = key.find('/');
  if (slash == std::string::npos) return IsQualifiedNamePart(key);
  return IsDnsSubdomain(key.substr(0, slash)) && IsQualifiedNamePart(key.substr(slash + 1));
}

bool IsValidLabelValue(const std::string& value) {
  return value.empty() || IsQualifiedNamePart(value);
}

std::vector<FieldError> Validate(const GameServerSpec& spec, const std::string& prefix) {
  std::vector<FieldError> out;
  CheckPorts(spec.ports, prefix, out);
  CheckHealth(spec.health, prefix + ".health", out);
  CheckProcess(spec, prefix, out);
  return out;
}

std::vector<FieldError> Validate(const Fleet& fleet) {
  std::vector<FieldError> out;
  CheckName(fleet.meta.name, kMaxFleetNameLength, out);
  CheckMeta(fleet.meta.labels, fleet.meta.annotations, "metadata", out);
  if (fleet.spec.replicas < 0)
    out.push_back({"spec.replicas", "must not be negative"});
  else if (fleet.spec.replicas > kMaxReplicas)
    out.push_back({"spec.replicas", "must be at most " + std::to_string(kMaxReplicas)});
  if (!fleet.spec.build_id.empty() && !IsUuid(fleet.spec.build_id))
    out.push_back({"spec.buildID", "must be a UUID (8-4-4-4-12 hex digits)"});
  CheckMeta(fleet.spec.tmpl.labels, fleet.spec.tmpl.annotations, "spec.template.metadata", out);
  for (const auto& p : fleet.spec.tmpl.spec.ports) {
    if (p.policy == PortPolicy::kStatic && fleet.spec.replicas > 1) {
      out.push_back({"spec.template.spec.ports",
                     "portPolicy Static gives every replica the same "
                     "host port; use Dynamic with more than one replica"});
      break;
    }
  }
  auto spec_errors = Validate(fleet.spec.tmpl.spec, "spec.template.spec");
  out.insert(out.end(), spec_errors.begin(), spec_errors.end());
  return out;
}

std::vector<FieldError> Validate(const GameServer& gs) {
  std::vector<FieldError> out;
  CheckName(gs.meta.name, 63, out);
  CheckMeta(gs.meta.labels, gs.meta.annotations, "metadata", out);
  if (gs.external) {  // runs elsewhere: no process to check, only its health settings
    CheckHealth(gs.spec->health, "spec.health", out);
    if (!gs.status.address.empty() && !IsHostAddress(gs.status.address))
      out.push_back(
          {"spec.external.address",
           "must be a host name, an IPv4 or an IPv6 address, got \"" + gs.status.address + "\""});
    if (gs.status.ports.empty())
      out.push_back({"spec.external.ports", "required: at least one port players connect to"});
    if (!gs.fleet.empty() && !IsValidName(gs.fleet))
      out.push_back({"spec.fleet", "not a valid fleet name"});
    return out;
  }
  auto spec_errors = Validate(*gs.spec, "spec");
  out.insert(out.end(), spec_errors.begin(), spec_errors.end());
  return out;
}

}  // namespace muster::core
