// Bearer-token authentication with scopes. Issue #3 adds stored, hashed tokens;
// for now the admin token generated at first start is the only one.
#pragma once

#include <optional>
#include <string>

#include "api/http_types.h"
#include "core/status.h"

namespace muster::api {

enum class Scope {
  kPublic,    // no token needed (/healthz)
  kRead,      // read anything
  kAllocate,  // allocate only
  kAdmin,     // everything
};

class Authenticator {
 public:
  explicit Authenticator(std::string admin_token) : admin_token_(std::move(admin_token)) {}

  // OkStatus, Unauthenticated (no or unknown token) or PermissionDenied (scope).
  // Thread-safe.
  core::Status Check(const Request& req, Scope needed) const;

 private:
  std::string admin_token_;
};

// The token of an "Authorization: Bearer <token>" header, if any.
std::optional<std::string> BearerToken(const Request& req);
// Compares in time independent of where the strings differ.
bool ConstantTimeEquals(const std::string& a, const std::string& b);

}  // namespace muster::api
