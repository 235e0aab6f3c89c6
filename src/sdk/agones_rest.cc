#include "sdk/agones_rest.h"

#include "api/responses.h"

namespace muster::sdk {
namespace {

using api::JsonResponse;
using api::Params;
using api::Reply;
using api::Request;
using nlohmann::json;

// The gateway answers an empty JSON object on success.
template <typename T>
control::Callback<T> Empty(Reply reply) {
  return [reply = std::move(reply)](core::StatusOr<T> r) {
    if (!r.ok()) return reply(api::ErrorResponse(r.status()));
    reply(JsonResponse(200, json::object()));
  };
}

// Agones request bodies are `{}`; anything that is not a JSON object is refused.
bool BodyIsObject(const Request& req, bool empty_ok, Reply& reply) {
  if (req.body().empty() && empty_ok) return true;
  json body = json::parse(req.body(), nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    reply(api::ErrorResponse(400, "InvalidArgument", "the body must be a JSON object, e.g. {}",
                             "body"));
    return false;
  }
  return true;
}

std::string Str(int64_t v) { return std::to_string(v); }

}  // namespace

json AgonesGameServerJson(const core::GameServer& gs) {
  json ports = json::array();
  for (const auto& p : gs.status.ports) ports.push_back({{"name", p.name}, {"port", p.port}});
  json addresses = json::array();
  if (!gs.status.address.empty())
    addresses.push_back({{"type", "InternalIP"}, {"address", gs.status.address}});
  const auto& h = gs.spec->health;
  return {
      {"object_meta",
       {{"name", gs.meta.name},
        {"namespace", "default"},
        {"uid", gs.meta.name},
        {"resource_version", Str(static_cast<int64_t>(gs.meta.version))},
        {"generation", Str(1)},
        {"creation_timestamp", Str(gs.meta.created_ms / 1000)},
        {"deletion_timestamp", Str(gs.meta.deletion_ms / 1000)},
        {"annotations", gs.meta.annotations.empty() ? json::object() : json(gs.meta.annotations)},
        {"labels", gs.meta.labels.empty() ? json::object() : json(gs.meta.labels)}}},
      {"spec",
       {{"health",
         {{"disabled", h.disabled},
          {"period_seconds", h.period_s},
          {"failure_threshold", h.failure_threshold},
          {"initial_delay_seconds", h.initial_delay_s}}}}},
      {"status",
       {{"state", core::StateName(gs.status.state)},
        {"address", gs.status.address},
        {"ports", ports},
        {"players", {{"count", "0"}, {"capacity", "0"}, {"ids", json::array()}}},
        {"counters", json::object()},
        {"lists", json::object()},
        {"addresses", addresses}}},
  };
}

std::vector<api::Route> AgonesRestRoutes(control::Controller& c, const std::string& server) {
  using http = api::http::verb;
  using api::Scope;
  return {
      {http::post, "/ready", Scope::kPublic,
       [&c, server](const Request& req, const Params&, Reply reply) {
         if (!BodyIsObject(req, true, reply)) return;
         c.SdkReady(server, Empty<core::GameServer>(reply));
       }},
      {http::post, "/health", Scope::kPublic,
       [&c, server](const Request& req, const Params&, Reply reply) {
         if (!BodyIsObject(req, false, reply)) return;
         c.SdkHealth(server, Empty<bool>(reply));
       }},
      {http::post, "/shutdown", Scope::kPublic,
       [&c, server](const Request& req, const Params&, Reply reply) {
         if (!BodyIsObject(req, true, reply)) return;
         c.SdkShutdown(server, Empty<core::GameServer>(reply));
       }},
      {http::post, "/allocate", Scope::kPublic,
       [&c, server](const Request& req, const Params&, Reply reply) {
         if (!BodyIsObject(req, true, reply)) return;
         c.SdkAllocate(server, Empty<core::GameServer>(reply));
       }},
      {http::post, "/reserve", Scope::kPublic,
       [&c, server](const Request& req, const Params&, Reply reply) {
         json body = json::parse(req.body(), nullptr, false);
         // Duration{seconds}: int64, so a string in gateway JSON; a number is accepted too.
         int64_t seconds = -1;
         if (body.is_object() && body.contains("seconds")) {
           const json& v = body["seconds"];
           if (v.is_number_integer())
             seconds = v.get<int64_t>();
           else if (v.is_string()) {
             try {
               seconds = std::stoll(v.get<std::string>());
             } catch (...) {
             }
           }
         } else if (body.is_object()) {
           seconds = 0;  // unset = until further notice
         }
         if (seconds < 0)
           return reply(api::ErrorResponse(
               400, "InvalidArgument", "seconds must be a whole number, not negative", "seconds"));
         c.SdkReserve(server, seconds, Empty<core::GameServer>(reply));
       }},
      {http::get, "/gameserver", Scope::kPublic,
       [&c, server](const Request&, const Params&, Reply reply) {
         c.GetGameServer(server, [reply](core::StatusOr<core::GameServer> r) {
           if (!r.ok()) return reply(api::ErrorResponse(r.status()));
           reply(JsonResponse(200, AgonesGameServerJson(*r)));
         });
       }},
  };
}

}  // namespace muster::sdk
