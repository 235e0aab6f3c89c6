#include "api/management_routes.h"

#include <charconv>

#include "api/responses.h"
#include "api/server_list.h"
#include "codec/gameserver_text.h"
#include "codec/json_codec.h"
#include "codec/yaml.h"

namespace muster::api {
namespace {

using codec::json;
using core::Fleet;
using core::GameServer;
using core::StatusOr;
using http::verb;

constexpr uint64_t kDefaultLogBytes = 256 * 1024;

// Turns a controller answer into an HTTP reply. It runs on the owner thread; the
// encoding is the connection's (Reply::Later). `encode` gives JSON, or JSON text.
template <typename T, typename Encode>
control::Callback<T> Respond(Reply reply, Encode encode, int ok_status = 200) {
  return [reply = std::move(reply), encode, ok_status](StatusOr<T> result) {
    reply.Later([encode, ok_status, result = std::move(result)] {
      if (!result.ok()) return ErrorResponse(result.status());
      if constexpr (std::is_same_v<decltype(encode(*result)), std::string>)
        return JsonTextResponse(ok_status, encode(*result));
      else
        return JsonResponse(ok_status, encode(*result));
    });
  };
}

// The answer to a create or update: 201 or 200, the object, and Muster-Apply saying
// what happened (created, configured, unchanged). Encoded on the connection's thread.
template <typename T>
control::Callback<control::Applied<T>> Applied(Reply reply, std::string (*text)(const T&)) {
  return [reply = std::move(reply), text](StatusOr<control::Applied<T>> r) {
    reply.Later([text, r = std::move(r)] {
      if (!r.ok()) return ErrorResponse(r.status());
      Response res = JsonTextResponse(r->outcome == control::ApplyOutcome::kCreated ? 201 : 200,
                                      text(r->object));
      res.set("Muster-Apply", control::ApplyOutcomeName(r->outcome));
      return res;
    });
  };
}

json FleetList(const std::vector<Fleet>& fleets) {
  json items = json::array();
  for (const auto& f : fleets) items.push_back(codec::EncodeFleet(f));
  return {{"apiVersion", core::kApiVersion}, {"kind", "FleetList"}, {"items", items}};
}

// Parses the body as exactly one manifest of `kind`. `path_name` (from PUT .../{name})
// must match metadata.name when given.
StatusOr<json> ParseManifest(const Request& req, const std::string& kind,
                             const std::string& path_name) {
  auto docs = codec::ParseDocuments(req.body());
  if (!docs.ok()) return docs.status();
  if (docs->size() != 1)
    return core::InvalidArgument(
        "send one manifest per request (got " + std::to_string(docs->size()) + ")", "body");
  json doc = std::move(docs->front());
  auto got = codec::ManifestKind(doc);
  if (!got.ok()) return got.status();
  if (*got != kind)
    return core::InvalidArgument("this path takes kind " + kind + ", not " + *got, "kind");
  if (doc.contains("metadata") && !doc["metadata"].is_object() && !doc["metadata"].is_null())
    return core::InvalidArgument("must be an object", "metadata");
  if (!path_name.empty()) {
    const json* name =
        doc.contains("metadata") && doc["metadata"].is_object() && doc["metadata"].contains("name")
            ? &doc["metadata"]["name"]
            : nullptr;
    if (!name) {
      doc["metadata"]["name"] = path_name;
    } else if (*name != path_name) {
      return core::InvalidArgument("must match the name in the path (" + path_name + ")",
                                   "metadata.name");
    }
  }
  return doc;
}

// POST /v1/fleets and PUT /v1/fleets/{name}: create or update.
void ApplyFleet(control::Controller& c, const Request& req, const Params& p, Reply reply) {
  auto doc = ParseManifest(req, "Fleet", p.Path("name"));
  if (!doc.ok()) return reply(ErrorResponse(doc.status()));
  auto fleet = codec::DecodeFleet(*doc);
  if (!fleet.ok()) return reply(ErrorResponse(fleet.status()));
  c.ApplyFleet(std::move(*fleet), Applied<Fleet>(std::move(reply), [](const Fleet& f) {
                 return codec::EncodeFleet(f).dump(-1, ' ', false, json::error_handler_t::replace);
               }));
}

void ApplyGameServer(control::Controller& c, const Request& req, const Params& p, Reply reply) {
  auto doc = ParseManifest(req, "GameServer", p.Path("name"));
  if (!doc.ok()) return reply(ErrorResponse(doc.status()));
  auto gs = codec::DecodeGameServer(*doc);
  if (!gs.ok()) return reply(ErrorResponse(gs.status()));
  c.ApplyGameServer(std::move(*gs), Applied<GameServer>(std::move(reply), codec::GameServerText));
}

// PUT /v1/fleets/{name}/scale {"replicas": N}
void ScaleFleet(control::Controller& c, const Request& req, const Params& p, Reply reply) {
  json body = json::parse(req.body(), nullptr, false);
  if (body.is_discarded() || !body.is_object())
    return reply(ErrorResponse(400, "InvalidArgument",
                               "the body must be a JSON object {\"replicas\": N}", "body"));
  for (const auto& [k, v] : body.items())
    if (k != "replicas")
      return reply(ErrorResponse(400, "InvalidArgument", "unknown field \"" + k + "\"", k));
  if (!body.contains("replicas") || !body["replicas"].is_number_integer())
    return reply(ErrorResponse(400, "InvalidArgument", "required: a whole number", "replicas"));
  int64_t replicas = body["replicas"].get<int64_t>();
  if (replicas < 0 || replicas > 100000)
    return reply(ErrorResponse(400, "InvalidArgument", "must be between 0 and 100000", "replicas"));
  c.ScaleFleet(p.Path("name"), static_cast<int>(replicas),
               Respond<Fleet>(reply, codec::EncodeFleet));
}

void Logs(control::Controller& c, const Request&, const Params& p, Reply reply) {
  uint64_t bytes = kDefaultLogBytes;
  if (const std::string text = p.Query("limitBytes"); !text.empty()) {
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), bytes);
    if (ec != std::errc() || end != text.data() + text.size())  // "-1", "12abc", "0x10"
      return reply(ErrorResponse(400, "InvalidArgument",
                                 "must be a whole number of bytes, got \"" + text + "\"",
                                 "limitBytes"));
  }
  std::string name = p.Path("name");
  c.GetGameServer(name, [&c, reply, name, bytes](StatusOr<GameServer> r) {
    if (!r.ok()) return reply(ErrorResponse(r.status()));
    reply.Later([&c, name, bytes] { return TextResponse(200, c.ReadLogs(name, bytes)); });
  });
}

// PUT /v1/nodes/{name}/maintenance {"at": "2026-12-01T10:00:00Z"}; "" or null clears it.
void Maintenance(control::Controller& c, const Request& req, const Params& p, Reply reply) {
  json body = json::parse(req.body(), nullptr, false);
  if (body.is_discarded() || !body.is_object())
    return reply(ErrorResponse(400, "InvalidArgument", "the body must be a JSON object", "body"));
  if (!body.contains("at"))
    return reply(ErrorResponse(400, "InvalidArgument", "required: a UTC time or \"\"", "at"));
  core::TimeMs at = 0;
  if (body["at"].is_string() && !body["at"].get<std::string>().empty()) {
    const std::string text = body["at"];
    auto parsed = codec::ParseUtcTimeStrict(text);
    if (!parsed)
      return reply(ErrorResponse(
          400, "InvalidArgument",
          "must be a UTC time like 2026-12-01T10:00:00Z, got \"" + text + "\"", "at"));
    at = *parsed;
  } else if (!body["at"].is_null() && !body["at"].is_string()) {
    return reply(ErrorResponse(400, "InvalidArgument", "must be a string", "at"));
  }
  c.SetNodeMaintenance(p.Path("name"), at, Respond<core::Node>(reply, codec::EncodeNode));
}

}  // namespace

std::vector<Route> ManagementRoutes(control::Controller& c) {
  using S = Scope;
  auto fleet = [](const Fleet& f) { return codec::EncodeFleet(f); };
  auto server = [](const GameServer& gs) { return codec::GameServerText(gs); };
  return {
      {verb::get, "/healthz", S::kPublic,
       [](const Request&, const Params&, Reply reply) {
         reply(JsonResponse(200, {{"status", "ok"}}));
       }},

      {verb::get, "/v1/fleets", S::kRead,
       [&c](const Request&, const Params&, Reply reply) {
         c.ListFleets(Respond<std::vector<Fleet>>(reply, FleetList));
       }},
      {verb::post, "/v1/fleets", S::kAdmin,
       [&c](const Request& req, const Params& p, Reply reply) { ApplyFleet(c, req, p, reply); }},
      {verb::get, "/v1/fleets/{name}", S::kRead,
       [&c, fleet](const Request&, const Params& p, Reply reply) {
         c.GetFleet(p.Path("name"), Respond<Fleet>(reply, fleet));
       }},
      {verb::put, "/v1/fleets/{name}", S::kAdmin,
       [&c](const Request& req, const Params& p, Reply reply) { ApplyFleet(c, req, p, reply); }},
      {verb::delete_, "/v1/fleets/{name}", S::kAdmin,
       [&c, fleet](const Request&, const Params& p, Reply reply) {
         c.DeleteFleet(p.Path("name"), Respond<Fleet>(reply, fleet));
       }},
      {verb::get, "/v1/fleets/{name}/scale", S::kRead,
       [&c](const Request&, const Params& p, Reply reply) {
         c.GetFleet(p.Path("name"), Respond<Fleet>(reply, [](const Fleet& f) {
                      return json{{"name", f.meta.name},
                                  {"replicas", f.spec.replicas},
                                  {"readyReplicas", f.status.ready},
                                  {"allocatedReplicas", f.status.allocated}};
                    }));
       }},
      {verb::put, "/v1/fleets/{name}/scale", S::kAdmin,
       [&c](const Request& req, const Params& p, Reply reply) { ScaleFleet(c, req, p, reply); }},

      {verb::get, "/v1/gameservers", S::kRead,
       [&c](const Request&, const Params& p, Reply reply) {
         StreamGameServerList(c, p.Query("fleet"), reply);
       }},
      {verb::post, "/v1/gameservers", S::kAdmin,
       [&c](const Request& req, const Params& p, Reply reply) {
         ApplyGameServer(c, req, p, reply);
       }},
      {verb::get, "/v1/gameservers/{name}", S::kRead,
       [&c, server](const Request&, const Params& p, Reply reply) {
         c.GetGameServer(p.Path("name"), Respond<GameServer>(reply, server));
       }},
      {verb::put, "/v1/gameservers/{name}", S::kAdmin,
       [&c](const Request& req, const Params& p, Reply reply) {
         ApplyGameServer(c, req, p, reply);
       }},
      {verb::delete_, "/v1/gameservers/{name}", S::kAdmin,
       [&c, server](const Request&, const Params& p, Reply reply) {
         c.DeleteGameServer(p.Path("name"), Respond<GameServer>(reply, server));
       }},
      {verb::get, "/v1/gameservers/{name}/logs", S::kRead,
       [&c](const Request& req, const Params& p, Reply reply) { Logs(c, req, p, reply); }},

      {verb::get, "/v1/nodes", S::kRead,
       [&c](const Request&, const Params&, Reply reply) {
         c.ListNodes(Respond<std::vector<core::Node>>(reply, [](const std::vector<core::Node>& ns) {
           json items = json::array();
           for (const auto& n : ns) items.push_back(codec::EncodeNode(n));
           return json{{"items", items}};
         }));
       }},
      {verb::get, "/v1/nodes/{name}", S::kRead,
       [&c](const Request&, const Params& p, Reply reply) {
         c.GetNode(p.Path("name"), Respond<core::Node>(reply, codec::EncodeNode));
       }},
      {verb::put, "/v1/nodes/{name}/maintenance", S::kAdmin,
       [&c](const Request& req, const Params& p, Reply reply) { Maintenance(c, req, p, reply); }},
  };
}

}  // namespace muster::api
