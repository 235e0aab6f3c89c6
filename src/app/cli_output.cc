#include "app/cli_output.h"

#include <algorithm>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "codec/json_codec.h"

namespace muster::app {
namespace {

using nlohmann::json;

void Emit(YAML::Emitter& out, const json& v) {
  if (v.is_object()) {
    out << YAML::BeginMap;
    for (const auto& [k, e] : v.items()) {
      out << YAML::Key << k << YAML::Value;
      Emit(out, e);
    }
    out << YAML::EndMap;
  } else if (v.is_array()) {
    out << YAML::BeginSeq;
    for (const auto& e : v) Emit(out, e);
    out << YAML::EndSeq;
  } else if (v.is_string()) {
    const std::string s = v.get<std::string>();
    // Quote strings that would read back as another type.
    bool quote = s.empty() || s == "true" || s == "false" || s == "null" || s == "~" ||
                 s.find_first_not_of("0123456789.-+eE") == std::string::npos;
    if (quote) out << YAML::DoubleQuoted;
    out << s;
  } else if (v.is_null()) {
    out << YAML::Null;
  } else {
    out << v.dump();
  }
}

std::string Str(const json& j, const char* key, const std::string& fallback = "") {
  if (!j.is_object() || !j.contains(key) || j[key].is_null()) return fallback;
  return j[key].is_string() ? j[key].get<std::string>() : j[key].dump();
}

}  // namespace

bool ParseOutputFormat(const std::string& s, OutputFormat* out) {
  if (s.empty())
    *out = OutputFormat::kTable;
  else if (s == "wide")
    *out = OutputFormat::kWide;
  else if (s == "json")
    *out = OutputFormat::kJson;
  else if (s == "yaml")
    *out = OutputFormat::kYaml;
  else
    return false;
  return true;
}

std::string FormatTable(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& row : rows)
    for (size_t i = 0; i < row.size(); ++i) {
      if (width.size() <= i) width.push_back(0);
      width[i] = std::max(width[i], row[i].size());
    }
  std::ostringstream out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 3, ' ');
    }
    out << line << "\n";
  }
  return out.str();
}

std::string ToYaml(const json& value) {
  YAML::Emitter out;
  Emit(out, value);
  return std::string(out.c_str()) + "\n";
}

std::string Age(const std::string& rfc3339, int64_t now_ms) {
  auto t = codec::ParseTime(rfc3339);
  if (!t) return "<unknown>";
  int64_t s = std::max<int64_t>(0, (now_ms - *t) / 1000);
  if (s < 120) return std::to_string(s) + "s";
  if (s < 7200) return std::to_string(s / 60) + "m";
  if (s < 48 * 3600) return std::to_string(s / 3600) + "h";
  return std::to_string(s / 86400) + "d";
}

std::vector<std::vector<std::string>> FleetRows(const json& items, bool wide, int64_t now_ms) {
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"NAME", "REPLICAS", "CURRENT", "READY", "ALLOCATED", "RESERVED", "AGE"});
  if (wide) rows[0].insert(rows[0].end(), {"SCHEDULING", "MESSAGE"});
  for (const auto& f : items) {
    const json& st = f["status"];
    std::vector<std::string> row = {Str(f["metadata"], "name"),
                                    Str(f["spec"], "replicas"),
                                    Str(st, "replicas", "0"),
                                    Str(st, "readyReplicas", "0"),
                                    Str(st, "allocatedReplicas", "0"),
                                    Str(st, "reservedReplicas", "0"),
                                    Age(Str(f["metadata"], "creationTimestamp"), now_ms)};
    if (wide) row.insert(row.end(), {Str(f["spec"], "scheduling"), Str(st, "message")});
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<std::vector<std::string>> GameServerRows(const json& items, bool wide, int64_t now_ms) {
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"NAME", "STATE", "ADDRESS", "PORT", "NODE", "AGE"});
  if (wide) rows[0].insert(rows[0].end(), {"FLEET", "PID", "SDK-HTTP", "REASON"});
  for (const auto& gs : items) {
    const json& st = gs["status"];
    std::string ports;
    for (const auto& p : st["ports"]) ports += (ports.empty() ? "" : ",") + Str(p, "port");
    std::string fleet;
    if (gs["metadata"].contains("ownerReferences"))
      fleet = Str(gs["metadata"]["ownerReferences"][0], "name");
    std::string state = Str(st, "state");
    if (gs["metadata"].contains("deletionTimestamp") && state != "Shutdown") state += " (deleting)";
    std::vector<std::string> row = {
        Str(gs["metadata"], "name"), state,
        Str(st, "address"),          ports.empty() ? "<none>" : ports,
        Str(st, "nodeName"),         Age(Str(gs["metadata"], "creationTimestamp"), now_ms)};
    const std::string sdk_http = Str(st["sdkPorts"], "http", "-");  // 0: none (--no-sdk)
    if (wide)
      row.insert(row.end(), {fleet.empty() ? "<none>" : fleet, Str(st, "pid", "-"),
                             sdk_http == "0" ? "-" : sdk_http, Str(st, "reason")});
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string DescribeObject(const json& obj, int64_t now_ms) {
  std::ostringstream out;
  const json& meta = obj["metadata"];
  out << "Name:         " << Str(meta, "name") << "\n"
      << "Kind:         " << Str(obj, "kind") << "\n"
      << "Created:      " << Str(meta, "creationTimestamp") << " ("
      << Age(Str(meta, "creationTimestamp"), now_ms) << " ago)\n";
  if (meta.contains("deletionTimestamp"))
    out << "Deleting:     since " << Str(meta, "deletionTimestamp") << "\n";
  out << "Labels:       ";
  if (meta.contains("labels")) {
    bool first = true;
    for (const auto& [k, v] : meta["labels"].items()) {
      out << (first ? "" : "\n              ") << k << "=" << v.get<std::string>();
      first = false;
    }
  } else {
    out << "<none>";
  }
  out << "\nSpec:\n";
  std::istringstream spec(ToYaml(obj["spec"]));
  for (std::string line; std::getline(spec, line);) out << "  " << line << "\n";
  out << "Status:\n";
  std::istringstream status(ToYaml(obj["status"]));
  for (std::string line; std::getline(status, line);) out << "  " << line << "\n";
  return out.str();
}

}  // namespace muster::app
