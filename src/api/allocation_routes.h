// Allocation's three front doors, all on one engine (control::Controller::Allocate):
//   POST /v1/allocations                  Muster's own
//   POST /gameserverallocation            Agones' allocator REST
//   POST|PATCH /api/v1/allocate           Thundernetes'
// and the token management routes under /v1/tokens. Reference: docs/allocation.md.
#pragma once

#include <vector>

#include "api/router.h"
#include "control/controller.h"

namespace muster::api {

// Answers are encoded on the HTTP connection's thread (Reply::Later), not on the
// controller's owner thread.
std::vector<Route> AllocationRoutes(control::Controller& controller);
std::vector<Route> TokenRoutes(control::Controller& controller);

}  // namespace muster::api
