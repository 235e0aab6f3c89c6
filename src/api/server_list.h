// GET /v1/gameservers: the listing, streamed in pages.
#pragma once

#include <string>

#include "api/http_types.h"
#include "control/controller.h"

namespace muster::api {

// Answers a GameServerList of every server (of `fleet`, when not empty), by name, as a
// chunked stream: the owner thread copies a page of servers at a time and this
// connection's thread encodes it, and the next page is read once the last has gone to
// the socket. So a listing of a hundred thousand servers holds neither thread for long
// (allocations go on between pages), and the memory it takes is a page's, not the
// whole answer's. Under change the list is not one instant's picture: each page is
// read at its own moment. Without reply.can_stream() (HTTP/1.0) it answers 505.
void StreamGameServerList(control::Controller& c, std::string fleet, const Reply& reply);

}  // namespace muster::api
