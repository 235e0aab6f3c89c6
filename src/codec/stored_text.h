// The store's hot write, fast and small: a GameServer's metadata and status as JSON
// text, written directly (JsonWriter), without a document. It is the general encoder's
// form (EncodeGameServer without the spec) less what the store keeps elsewhere or can
// infer: no apiVersion and kind (the row's kind says it), no resourceVersion (its own
// column), and no field at its default (empty node, address, cookie and initial
// players; zero SDK ports; no players). Contract: DecodeGameServer(text, kStored), with
// the version set from its column, gives back `gs` less its spec;
// tests/unit/codec_test.cc checks that. Smaller rows mean a smaller database and more
// servers to a page (docs/architecture.md, Schema).
#pragma once

#include <string>

#include "core/model.h"

namespace muster::codec {

std::string StoredGameServerText(const core::GameServer& gs);

}  // namespace muster::codec
