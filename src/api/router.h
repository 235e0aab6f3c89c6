// Routes are data: each API area lists {method, path pattern, scope, handler} in one
// table. The router matches the path ("/v1/fleets/{name}"), checks the token's scope,
// and calls the handler; it answers 404, 405, 401 and 403 itself.
#pragma once

#include <string>
#include <vector>

#include "api/auth.h"
#include "api/http_types.h"

namespace muster::api {

using RouteHandler = std::function<void(const Request&, const Params&, Reply)>;

struct Route {
  http::verb method;
  std::string pattern;
  Scope scope;
  RouteHandler handler;
};

class Router {
 public:
  // `auth` may be null when every route is public (the SDK endpoints).
  Router(std::vector<Route> routes, const Authenticator* auth);

  // Thread-safe: the table is immutable after construction.
  void Handle(const Request& req, Reply reply) const;
  Handler AsHandler() const {
    return [this](const Request& req, Reply reply) { Handle(req, std::move(reply)); };
  }

 private:
  struct Compiled {
    Route route;
    std::vector<std::string> segments;
  };
  std::vector<Compiled> routes_;
  const Authenticator* auth_;
};

// Splits "/a/b?x=1&y=2" into the path and its decoded query parameters.
std::string SplitTarget(std::string_view target, std::map<std::string, std::string>* query);

}  // namespace muster::api
