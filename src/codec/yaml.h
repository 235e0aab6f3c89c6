// Manifest text (YAML or JSON, one or more documents) -> JSON values.
#pragma once

#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace muster::codec {

// Parses JSON (text starting with '{' or '[') or YAML with any number of `---`
// separated documents; empty documents are dropped. Plain YAML scalars become
// numbers, booleans or null where they read as such; quoted ones stay strings.
// InvalidArgument with field "body" and the line and column on a syntax error.
core::StatusOr<std::vector<nlohmann::json>> ParseDocuments(std::string_view text);

}  // namespace muster::codec
