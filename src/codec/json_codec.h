// Manifests and stored objects <-> JSON. The JSON shape is the public one (what
// `muster get -o json` prints and the API returns); the store keeps the same text.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/model.h"

namespace muster::codec {

using nlohmann::json;

enum class Mode {
  kManifest,  // user input: strict, `status` ignored, defaults applied, validated
  kStored,    // the store's own text: status read, trusted
};

core::StatusOr<core::Fleet> DecodeFleet(const json& doc, Mode mode = Mode::kManifest);
core::StatusOr<core::GameServer> DecodeGameServer(const json& doc, Mode mode = Mode::kManifest);
json EncodeFleet(const core::Fleet& fleet);
// codec::GameServerText parsed; the text itself is faster where text is what is needed.
json EncodeGameServer(const core::GameServer& gs);
json EncodeNode(const core::Node& node);
core::Node DecodeNode(const json& j);
json EncodeToken(const core::ApiToken& t);
core::ApiToken DecodeToken(const json& j);

// The `kind` of a manifest, with apiVersion checked. InvalidArgument naming `kind`
// or `apiVersion` otherwise.
core::StatusOr<std::string> ManifestKind(const json& doc);

// RFC 3339 UTC with milliseconds: 2026-11-21T08:30:00.123Z. 0 formats as "".
std::string FormatTime(core::TimeMs ms);
std::optional<core::TimeMs> ParseTime(const std::string& text);
// A time a person wrote: exactly YYYY-MM-DDTHH:MM:SS[.fraction]Z, a real UTC date and
// time from 1970 on (no 13th month, no 99th second, nothing after the Z).
std::optional<core::TimeMs> ParseUtcTimeStrict(const std::string& text);

}  // namespace muster::codec
