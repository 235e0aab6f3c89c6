#include "api/auth.h"

namespace muster::api {

std::optional<std::string> BearerToken(const Request& req) {
  auto it = req.find(http::field::authorization);
  if (it == req.end()) return std::nullopt;
  std::string value(it->value());
  const std::string prefix = "Bearer ";
  if (value.size() <= prefix.size() || value.compare(0, prefix.size(), prefix) != 0)
    return std::nullopt;
  return value.substr(prefix.size());
}

bool ConstantTimeEquals(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const std::string& longer = a.size() >= b.size() ? a : b;
  for (size_t i = 0; i < longer.size(); ++i) {
    unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= x ^ y;
  }
  return diff == 0;
}

core::Status Authenticator::Check(const Request& req, Scope needed) const {
  if (needed == Scope::kPublic) return core::OkStatus();
  auto token = BearerToken(req);
  if (!token)
    return core::Status(core::Code::kUnauthenticated,
                        "missing \"Authorization: Bearer <token>\" header", "Authorization");
  if (!ConstantTimeEquals(*token, admin_token_))
    return core::Status(core::Code::kUnauthenticated, "unknown token", "Authorization");
  return core::OkStatus();  // the admin token holds every scope
}

}  // namespace muster::api
