#include "api/allocation_routes.h"

#include "api/responses.h"
#include "codec/allocation_codec.h"
#include "codec/json_codec.h"
#include "codec/json_text.h"

namespace muster::api {
namespace {

using codec::json;
using core::StatusOr;
using http::verb;

constexpr size_t kMaxAllocationBody = 64 * 1024;

// The parse step shared by every door: size, then JSON. A key given twice is refused,
// naming it (Muster's door; Agones' gateway, whose protojson decoder refuses one too), or
// the last one is taken (Thundernetes: Go's encoding/json does that).
std::optional<json> ParseBody(const Request& req, Reply& reply, codec::RepeatedKeys repeats) {
  if (req.body().size() > kMaxAllocationBody) {
    reply(ErrorResponse(
        413, "PayloadTooLarge",
        "an allocation request is at most " + std::to_string(kMaxAllocationBody) + " bytes",
        "body"));
    return std::nullopt;
  }
  auto body = codec::ParseJsonText(req.body(), repeats);
  if (!body.ok()) {
    reply(ErrorResponse(body.status()));
    return std::nullopt;
  }
  return std::move(*body);
}

// None available: 429 with Retry-After, as matchmakers expect.
Response Failure(const core::Status& s) {
  Response res = ErrorResponse(s);
  if (s.code() == core::Code::kResourceExhausted) res.set(http::field::retry_after, "1");
  return res;
}

using Decode = StatusOr<core::AllocationRequest> (*)(const json&);
using Encode = std::function<Response(const control::AllocationResult&)>;

// parse → execute (the engine) → reply, for any door.
void Door(control::Controller& c, const Request& req, Reply reply, Decode decode, Encode encode,
          codec::RepeatedKeys repeats = codec::RepeatedKeys::kRefused) {
  auto body = ParseBody(req, reply, repeats);
  if (!body) return;
  auto request = decode(*body);
  if (!request.ok()) return reply(ErrorResponse(request.status()));
  c.Allocate(std::move(*request), [reply, encode](StatusOr<control::AllocationResult> r) {
    // Runs on the owner thread: the encoding is the connection's to do.
    reply.Later([encode, r = std::move(r)] {
      if (!r.ok()) return Failure(r.status());
      return encode(*r);
    });
  });
}

Response Native(const control::AllocationResult& r) {
  return JsonTextResponse(r.replayed ? 200 : 201,
                          codec::EncodeAllocationAnswer(r.server, r.session_id));
}
Response Agones(const control::AllocationResult& r) {
  return JsonTextResponse(200, codec::EncodeAgonesAllocationResponse(r.server));
}
Response Thundernetes(const control::AllocationResult& r) {
  return JsonTextResponse(200, codec::EncodeThundernetesResponse(r.server, r.session_id));
}

json TokenJson(const core::ApiToken& t) {
  return {{"name", t.name}, {"scope", t.scope}, {"createdAt", codec::FormatTime(t.created_ms)}};
}

void CreateToken(control::Controller& c, const Request& req, Reply reply) {
  json body = json::parse(req.body(), nullptr, false);
  if (body.is_discarded() || !body.is_object())
    return reply(ErrorResponse(400, "InvalidArgument",
                               "the body must be {\"scope\": ..., \"name\": ...}", "body"));
  for (const auto& [k, v] : body.items())
    if (k != "scope" && k != "name")
      return reply(ErrorResponse(400, "InvalidArgument", "unknown field \"" + k + "\"", k));
  for (const char* key : {"scope", "name"})
    if (body.contains(key) && !body[key].is_string() && !body[key].is_null())
      return reply(ErrorResponse(400, "InvalidArgument", "must be a string", key));
  auto text = [&](const char* key) {
    return body.contains(key) && body[key].is_string() ? body[key].get<std::string>() : "";
  };
  std::string scope = text("scope");
  if (!ParseScope(scope))
    return reply(ErrorResponse(400, "InvalidArgument", "must be admin, allocate or read", "scope"));
  std::string name = text("name");
  if (name.empty() && body.contains("name") && body["name"].is_string())
    return reply(ErrorResponse(400, "InvalidArgument",
                               "must not be empty (leave it out for a generated name)", "name"));
  if (name.empty()) name = scope + "-" + NewTokenSecret().substr(4, 8);
  if (!core::IsValidName(name))
    return reply(
        ErrorResponse(400, "InvalidArgument", "must be a DNS label (a-z, 0-9, '-')", "name"));
  const std::string secret = NewTokenSecret();
  c.CreateToken({name, scope, Sha256Hex(secret), 0}, [reply, secret](StatusOr<core::ApiToken> r) {
    if (!r.ok()) return reply(ErrorResponse(r.status()));
    json out = TokenJson(*r);
    out["token"] = secret;  // shown once; only its hash is kept
    reply(JsonResponse(201, out));
  });
}

}  // namespace

std::vector<Route> AllocationRoutes(control::Controller& c) {
  using S = Scope;
  auto native = [&c](const Request& req, const Params&, Reply reply) {
    Door(c, req, std::move(reply), codec::DecodeAllocationRequest, Native);
  };
  auto agones = [&c](const Request& req, const Params&, Reply reply) {
    Door(c, req, std::move(reply), codec::DecodeAgonesAllocation, Agones);
  };
  auto thundernetes = [&c](const Request& req, const Params&, Reply reply) {
    Door(c, req, std::move(reply), codec::DecodeThundernetesAllocation, Thundernetes,
         codec::RepeatedKeys::kLastWins);
  };
  return {
      {verb::post, "/v1/allocations", S::kAllocate, native},
      {verb::post, "/gameserverallocation", S::kAllocate, agones},
      {verb::post, "/api/v1/allocate", S::kAllocate, thundernetes},
      {verb::patch, "/api/v1/allocate", S::kAllocate, thundernetes},
  };
}

std::vector<Route> TokenRoutes(control::Controller& c) {
  using S = Scope;
  return {
      {verb::post, "/v1/tokens", S::kAdmin,
       [&c](const Request& req, const Params&, Reply reply) {
         CreateToken(c, req, std::move(reply));
       }},
      {verb::get, "/v1/tokens", S::kAdmin,
       [&c](const Request&, const Params&, Reply reply) {
         c.ListTokens([reply](StatusOr<std::vector<core::ApiToken>> r) {
           if (!r.ok()) return reply(ErrorResponse(r.status()));
           json items = json::array();
           for (const auto& t : *r) items.push_back(TokenJson(t));
           reply(JsonResponse(200, {{"kind", "TokenList"}, {"items", items}}));
         });
       }},
      {verb::delete_, "/v1/tokens/{name}", S::kAdmin,
       [&c](const Request&, const Params& p, Reply reply) {
         c.RevokeToken(p.Path("name"), [reply](StatusOr<core::ApiToken> r) {
           if (!r.ok()) return reply(ErrorResponse(r.status()));
           reply(JsonResponse(200, TokenJson(*r)));
         });
       }},
  };
}

}  // namespace muster::api
