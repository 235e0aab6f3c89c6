// The management API under /v1/: fleets, game servers, scale, logs; and /healthz.
// Reference: docs/api.md.
#pragma once

#include <vector>

#include "api/router.h"
#include "control/controller.h"

namespace muster::api {

// Handlers parse on the I/O thread, execute on the controller, reply when durable.
// `controller` must outlive the routes.
std::vector<Route> ManagementRoutes(control::Controller& controller);

}  // namespace muster::api
