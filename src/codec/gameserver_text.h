// A GameServer as JSON text, written directly (JsonWriter) without a document: the one
// encoder of a GameServer's JSON. It is fast enough for the hot paths (the store's row
// on every allocation, listings of a hundred thousand servers) and the DOM form
// (EncodeGameServer) is this text parsed.
#pragma once

#include <string>

#include "core/model.h"

namespace muster::codec {

// The API's form: what GET /v1/gameservers/{name} answers (apiVersion, kind, metadata,
// spec, status), with every status field shown, defaults included.
std::string GameServerText(const core::GameServer& gs);
// The same, appended to `out`.
void AppendGameServerText(std::string& out, const core::GameServer& gs);

// The spec as the API shows it: a registered server's also holds spec.external.
std::string GameServerSpecText(const core::GameServer& gs);
// A template's spec (a Fleet's spec.template.spec shows no `scheduling`: the fleet's own
// spec.scheduling is the one that counts).
std::string GameServerSpecText(const core::GameServerSpec& spec, bool with_scheduling);

// The store's hot write, small: the API's form less its spec and less what the store
// keeps elsewhere or can infer: no apiVersion and kind (the row's kind says it), no
// resourceVersion (its own column), and no field at its default (empty node, address,
// cookie and initial players; zero SDK ports; no players). Contract:
// DecodeGameServer(text, kStored), with the version set from its column, gives back `gs`
// less its spec; tests/unit/codec_test.cc checks that. Smaller rows mean a smaller
// database and more servers to a page (docs/architecture.md, Schema).
std::string StoredGameServerText(const core::GameServer& gs);

}  // namespace muster::codec
