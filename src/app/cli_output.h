// How the CLI prints objects: kubectl-style aligned tables, JSON or YAML.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace muster::app {

enum class OutputFormat { kTable, kWide, kJson, kYaml };

// "" / "wide" / "json" / "yaml"; false for anything else.
bool ParseOutputFormat(const std::string& s, OutputFormat* out);

// Columns padded to the widest cell, separated by three spaces.
std::string FormatTable(const std::vector<std::vector<std::string>>& rows);

std::string ToYaml(const nlohmann::json& value);

// Age since an RFC 3339 time, as kubectl shows it: 45s, 12m, 3h, 5d.
std::string Age(const std::string& rfc3339, int64_t now_ms);

// Rows for `get` (first row is the header). `items` are API objects.
std::vector<std::vector<std::string>> FleetRows(const nlohmann::json& items, bool wide,
                                                int64_t now_ms);
std::vector<std::vector<std::string>> GameServerRows(const nlohmann::json& items, bool wide,
                                                     int64_t now_ms);

// Multi-line human description for `describe`.
std::string DescribeObject(const nlohmann::json& obj, int64_t now_ms);

}  // namespace muster::app
