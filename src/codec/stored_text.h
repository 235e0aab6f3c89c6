// The store's hot write, fast: a GameServer's metadata and status as JSON text,
// written directly (JsonWriter), without a document. It must equal
// EncodeGameServer(gs, /*with_spec=*/false); tests/unit/codec_test.cc checks that.
#pragma once

#include <string>

#include "core/model.h"

namespace muster::codec {

std::string StoredGameServerText(const core::GameServer& gs);

}  // namespace muster::codec
