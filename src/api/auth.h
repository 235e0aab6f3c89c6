// Bearer-token authentication with scopes. The admin token generated at first start
// (DATA_DIR/admin.token) holds every scope; further tokens are created with a scope
// through /v1/tokens and stored as SHA-256 hashes (control::TokenTable).
#pragma once

#include <optional>
#include <string>

#include "api/http_types.h"
#include "control/token_table.h"
#include "core/status.h"

namespace muster::api {

enum class Scope {
  kPublic,    // no token needed (/healthz)
  kRead,      // read anything
  kAllocate,  // allocate only
  kAdmin,     // everything
};
const char* ScopeName(Scope s);
std::optional<Scope> ParseScope(const std::string& s);  // "admin" | "allocate" | "read"

class Authenticator {
 public:
  // `tokens` may be null (admin token only). Both must outlive the Authenticator.
  Authenticator(std::string admin_token, const control::TokenTable* tokens = nullptr)
      : admin_token_(std::move(admin_token)), tokens_(tokens) {}

  // OkStatus, Unauthenticated (no or unknown token) or PermissionDenied (the token's
  // scope does not cover `needed`). Thread-safe.
  core::Status Check(const Request& req, Scope needed) const;

 private:
  std::string admin_token_;
  const control::TokenTable* tokens_;
};

// The token of an "Authorization: Bearer <token>" header (scheme in any case), if any.
std::optional<std::string> BearerToken(const Request& req);
// Compares in time independent of where the strings differ.
bool ConstantTimeEquals(const std::string& a, const std::string& b);
std::string Sha256Hex(const std::string& data);
// A new random token: "mst_" and 64 hex digits from the OS's random source.
std::string NewTokenSecret();

}  // namespace muster::api
