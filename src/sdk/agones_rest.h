// The Agones SDK REST gateway, as served on one game server's own HTTP SDK port.
// The port identifies the caller: routes are bound to one server's name, so one
// server can never act on another. Reference: ../shared/reference/agones-sdk.md.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/router.h"
#include "control/controller.h"

namespace muster::sdk {

// Routes for `server`: POST /ready, /health, /shutdown, /allocate, /reserve; GET /gameserver.
std::vector<api::Route> AgonesRestRoutes(control::Controller& controller,
                                         const std::string& server);

// A GameServer in the gateway's JSON: proto field names, int64 as strings, unset
// fields emitted.
nlohmann::json AgonesGameServerJson(const core::GameServer& gs);

}  // namespace muster::sdk
