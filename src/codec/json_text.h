// JSON text -> a value, for request bodies and manifests: one pass that also refuses a key
// an object repeats (nlohmann would keep the last and silently drop the other).
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace muster::codec {

// The path of member `key` of the value at `path`: "spec" + "replicas" -> "spec.replicas",
// "" + "fleet" -> "fleet". Array elements are "[i]" ("spec.ports[1].name").
std::string MemberPath(const std::string& path, const std::string& key);

// The refusal of a repeated key: InvalidArgument on the member's path.
core::Status RepeatedKey(const std::string& path, const std::string& key);

// What a key an object repeats means: an error (RepeatedKey at its path), or the last
// one's value, as Go's encoding/json reads it (for doors that copy a Go server).
enum class RepeatedKeys { kRefused, kLastWins };

// Parses one JSON text. A syntax error or a number out of range (1e400) is
// InvalidArgument on "body": "invalid JSON: " and where.
core::StatusOr<nlohmann::json> ParseJsonText(std::string_view text,
                                             RepeatedKeys repeats = RepeatedKeys::kRefused);

}  // namespace muster::codec
