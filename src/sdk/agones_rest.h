// The Agones SDK REST gateway, as served on one game server's own HTTP SDK port:
// every path of ../shared/reference/agones-sdk.md (stable, alpha players, beta
// counters and lists, and the GET /watch/gameserver stream), with the gateway's JSON
// rules (sdk/agones_proto.h). Routes are bound to one ServerSdk, so a caller can
// only act on the server whose port it came in on.
#pragma once

#include <vector>

#include "api/router.h"
#include "sdk/server_sdk.h"

namespace muster::sdk {

std::vector<api::Route> AgonesRestRoutes(const ServerSdk& sdk);

}  // namespace muster::sdk
