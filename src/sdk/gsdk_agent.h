// The PlayFab GSDK agent and the Azure DGS callbacks, served on each game server's
// own HTTP SDK port next to the Agones REST gateway (one agent port per server).
// Contract: ../shared/reference/playfab-gsdk.md.
//
// For each server Muster writes the GSDK config file and passes GSDK_CONFIG_FILE,
// PF_TITLE_ID, PF_BUILD_ID, PF_REGION (and the C++ GSDK's fallback variables). The
// heartbeatEndpoint is this port; the sessionHostId is the server's name. A request
// naming another session host or server is answered 404: a server can only act on
// itself.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "api/router.h"
#include "core/model.h"
#include "sdk/server_sdk.h"

namespace muster::sdk {

struct GsdkOptions {
  std::string dir;                   // where config files and per-server folders go
  std::string title_id = "muster";   // PF_TITLE_ID
  std::string region = "local";      // PF_REGION
  int heartbeat_interval_ms = 1000;  // nextHeartbeatIntervalMs in every answer
};

// Writes `gs`'s GSDK config file (atomically) and answers the environment for its
// process. `fleet` may be null (a standalone server).
core::StatusOr<std::map<std::string, std::string>> WriteGsdkConfig(const core::GameServer& gs,
                                                                   const core::Fleet* fleet,
                                                                   const GsdkOptions& options);
void RemoveGsdkConfig(const std::string& name, const GsdkOptions& options);
// Creates `options.dir` and its shared folders (logs/, certs/, shared/). Once, at start.
core::Status PrepareGsdkDir(const GsdkOptions& options);

// PATCH /v1/sessionHosts/{id}, POST /v1/sessionHosts/{id}/heartbeats,
// POST /v1/metrics/{id}/gsdkinfo; POST /setactiveplayers, /setsdgshealth,
// /setdgsmarkedfordeletion, /setdgsstate.
std::vector<api::Route> GsdkAgentRoutes(const ServerSdk& sdk, const GsdkOptions& options);

// GSDK time format for nextScheduledMaintenanceUtc: "2026-01-01T10:00:00Z".
std::string GsdkTime(core::TimeMs ms);

}  // namespace muster::sdk
