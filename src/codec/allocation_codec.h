// Allocation requests and answers in the three shapes Muster speaks: its own
// (/v1/allocations), Agones' allocator REST (/gameserverallocation) and
// Thundernetes' (/api/v1/allocate). All three decode to one core::AllocationRequest.
// Answers are JSON text, written directly (codec/json_writer.h): they are on the hot path.
#pragma once

#include <nlohmann/json.hpp>

#include "core/allocation.h"

namespace muster::codec {

using nlohmann::json;

// Native: {fleet?, selectors[]?, scheduling?, metadata{labels,annotations}?, sessionId?,
// sessionCookie?, initialPlayers?}. Strict: unknown fields are errors.
core::StatusOr<core::AllocationRequest> DecodeAllocationRequest(const json& body);
std::string EncodeAllocationAnswer(const core::GameServer& gs, const std::string& session_id);

// Agones AllocationRequest (REST gateway JSON): gameServerSelectors, the deprecated
// required/preferred selectors, scheduling (name or number), metadata / metaPatch,
// namespace. Unknown fields are errors, as the gateway's are.
core::StatusOr<core::AllocationRequest> DecodeAgonesAllocation(const json& body);
std::string EncodeAgonesAllocationResponse(const core::GameServer& gs);

// Thundernetes: {buildID, sessionID, sessionCookie?, initialPlayers?}; both ids must
// be UUIDs. Other fields are ignored, as Thundernetes' own decoder does.
core::StatusOr<core::AllocationRequest> DecodeThundernetesAllocation(const json& body);
// {"IPV4Address", "Ports": "containerPort:hostPort,...", "SessionID"}
std::string EncodeThundernetesResponse(const core::GameServer& gs, const std::string& session_id);

}  // namespace muster::codec
