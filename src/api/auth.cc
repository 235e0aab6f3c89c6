#include "api/auth.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cctype>
#include <stdexcept>
#include <string_view>

namespace muster::api {
namespace {

std::string Hex(const unsigned char* data, size_t n) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    out += hex[data[i] >> 4];
    out += hex[data[i] & 15];
  }
  return out;
}

}  // namespace

const char* ScopeName(Scope s) {
  switch (s) {
    case Scope::kPublic: return "public";
    case Scope::kRead: return "read";
    case Scope::kAllocate: return "allocate";
    case Scope::kAdmin: return "admin";
  }
  return "";
}

std::optional<Scope> ParseScope(const std::string& s) {
  for (Scope scope : {Scope::kRead, Scope::kAllocate, Scope::kAdmin})
    if (s == ScopeName(scope)) return scope;
  return std::nullopt;
}

std::optional<std::string> BearerToken(const Request& req) {
  auto it = req.find(http::field::authorization);
  if (it == req.end()) return std::nullopt;
  std::string_view value = it->value();
  // The scheme is case-insensitive (RFC 9110 §11.1); spaces may follow it.
  constexpr std::string_view kScheme = "bearer";
  if (value.size() <= kScheme.size() || value[kScheme.size()] != ' ') return std::nullopt;
  for (size_t i = 0; i < kScheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(value[i])) != kScheme[i]) return std::nullopt;
  value.remove_prefix(kScheme.size());
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  if (value.empty()) return std::nullopt;
  return std::string(value);
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

std::string Sha256Hex(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  return Hex(digest, len);
}

std::string NewTokenSecret() {
  unsigned char raw[32];
  if (RAND_bytes(raw, sizeof raw) != 1) throw std::runtime_error("no random bytes for a token");
  return "mst_" + Hex(raw, sizeof raw);
}

core::Status Authenticator::Check(const Request& req, Scope needed) const {
  if (needed == Scope::kPublic) return core::OkStatus();
  auto token = BearerToken(req);
  if (!token)
    return core::Status(core::Code::kUnauthenticated,
                        req.count(http::field::authorization)
                            ? "the Authorization header must be \"Bearer <token>\""
                            : "missing \"Authorization: Bearer <token>\" header",
                        "Authorization");
  if (ConstantTimeEquals(*token, admin_token_)) return core::OkStatus();  // every scope
  // Lookup by hash: the table never holds a token itself, and a hash lookup reveals
  // nothing about how close a guess was.
  std::optional<core::ApiToken> found =
      tokens_ ? tokens_->FindBySha256(Sha256Hex(*token)) : std::nullopt;
  if (!found)
    return core::Status(core::Code::kUnauthenticated,
                        "unknown token (never created on this server, or revoked)",
                        "Authorization");
  if (found->scope == ScopeName(Scope::kAdmin) || found->scope == ScopeName(needed))
    return core::OkStatus();
  return core::Status(core::Code::kPermissionDenied,
                      "token \"" + found->name + "\" has scope " + found->scope + "; this needs " +
                          ScopeName(needed),
                      "Authorization");
}

}  // namespace muster::api
