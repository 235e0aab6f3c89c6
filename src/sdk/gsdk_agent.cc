#include "sdk/gsdk_agent.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "api/responses.h"
#include "codec/json_codec.h"

namespace muster::sdk {
namespace {

namespace fs = std::filesystem;
using api::Params;
using api::Reply;
using api::Request;
using nlohmann::json;
using http = api::http::verb;

constexpr const char* kMarkedForDeletion = "muster.dev/marked-for-deletion";

std::string ConfigPath(const std::string& name, const GsdkOptions& o) {
  return o.dir + "/" + name + ".json";
}

// ---- game states, in the order a GSDK game moves through them

enum class GameState {
  kInitializing,
  kStandingBy,
  kActive,
  kTerminating,
  kTerminated,
  kQuarantined
};

std::optional<GameState> ParseGameState(const std::string& s) {
  if (s == "Initializing") return GameState::kInitializing;
  if (s == "StandingBy") return GameState::kStandingBy;
  if (s == "Active") return GameState::kActive;
  if (s == "Terminating") return GameState::kTerminating;
  if (s == "Terminated") return GameState::kTerminated;
  if (s == "Quarantined" || s == "Quarentined") return GameState::kQuarantined;  // C# spelling
  return std::nullopt;
}

// What the agent remembers of one game between heartbeats.
struct Session {
  std::mutex mu;
  std::optional<GameState> last;  // the last state a heartbeat reported
};

struct Heartbeat {
  GameState state;
  bool unhealthy = false;
  std::vector<std::string> players;
};

// Reads a heartbeat body. Every problem names its field; unknown fields are ignored.
core::StatusOr<Heartbeat> ParseHeartbeat(const std::string& body) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return core::InvalidArgument("the body must be a JSON object", "body");
  Heartbeat hb;
  if (!j.contains("CurrentGameState") || !j["CurrentGameState"].is_string())
    return core::InvalidArgument("required: a string", "CurrentGameState");
  auto state = ParseGameState(j["CurrentGameState"].get<std::string>());
  if (!state)
    return core::InvalidArgument(
        "must be Initializing, StandingBy, Active, Terminating, Terminated or Quarantined",
        "CurrentGameState");
  hb.state = *state;
  if (j.contains("CurrentGameHealth") && !j["CurrentGameHealth"].is_null()) {
    const json& h = j["CurrentGameHealth"];
    if (!h.is_string() || (h != "" && h != "Healthy" && h != "Unhealthy"))
      return core::InvalidArgument("must be Healthy, Unhealthy or empty", "CurrentGameHealth");
    hb.unhealthy = h == "Unhealthy";
  }
  if (j.contains("CurrentPlayers") && !j["CurrentPlayers"].is_null()) {
    const json& players = j["CurrentPlayers"];
    if (!players.is_array())
      return core::InvalidArgument("must be an array or null", "CurrentPlayers");
    for (size_t i = 0; i < players.size(); ++i) {
      const json& p = players[i];
      const std::string field = "CurrentPlayers[" + std::to_string(i) + "].PlayerId";
      if (!p.is_object() || !p.contains("PlayerId") || !p["PlayerId"].is_string())
        return core::InvalidArgument("required: a string", field);
      hb.players.push_back(p["PlayerId"]);
    }
  }
  return hb;
}

// Runs asynchronous steps one after another; the first failure ends the chain.
using Step = std::function<void(std::function<void(core::Status)>)>;
void RunSteps(std::shared_ptr<std::vector<Step>> steps, size_t i,
              std::function<void(core::Status)> done) {
  if (i == steps->size()) return done(core::OkStatus());
  (*steps)[i]([steps, i, done = std::move(done)](core::Status s) mutable {
    if (!s.ok()) return done(s);
    RunSteps(steps, i + 1, std::move(done));
  });
}

template <typename T>
Callback<T> ToStep(std::function<void(core::Status)> next) {
  return [next = std::move(next)](core::StatusOr<T> r) { next(r.status()); };
}

// What Muster's state asks of the game, as a heartbeat answer.
json Answer(const GameServer& gs, const core::Node* node, GameState reported,
            const GsdkOptions& o) {
  json out = {{"operation", "Continue"}, {"nextHeartbeatIntervalMs", o.heartbeat_interval_ms}};
  const auto state = gs.status.state;
  if (gs.meta.deletion_ms != 0 || state == core::GameServerState::kShutdown) {
    out["operation"] = "Terminate";
  } else if (state == core::GameServerState::kAllocated && reported != GameState::kActive) {
    out["operation"] = "Active";
  }
  if (state == core::GameServerState::kAllocated) {
    json config = {
        {"sessionId", ""},
        {"sessionCookie", ""},
        {"initialPlayers", json::array()},
        {"metadata", gs.meta.annotations.empty() ? json::object() : json(gs.meta.annotations)}};
    if (gs.status.allocation) {
      config["sessionId"] = gs.status.allocation->session_id;
      config["sessionCookie"] = gs.status.allocation->session_cookie;
      config["initialPlayers"] = gs.status.allocation->initial_players;
    }
    out["sessionConfig"] = std::move(config);
  }
  if (node && node->maintenance_ms)
    out["nextScheduledMaintenanceUtc"] = GsdkTime(node->maintenance_ms);
  return out;
}

// The state transition a reported game state asks for, given Muster's state.
Step Transition(const ServerSdk& sdk, GameState reported, core::GameServerState now) {
  using S = core::GameServerState;
  switch (reported) {
    case GameState::kStandingBy:  // readyForPlayers(): Starting -> Ready (never undoes Allocated)
      if (now == S::kStarting)
        return [sdk](auto next) { sdk.Ready(ToStep<GameServer>(std::move(next))); };
      break;
    case GameState::kActive:  // active without an allocation of ours: it allocated itself
      if (now == S::kReady)
        return [sdk](auto next) { sdk.Allocate(ToStep<GameServer>(std::move(next))); };
      break;
    case GameState::kTerminating:
    case GameState::kTerminated:
      if (now != S::kShutdown)
        return [sdk](auto next) { sdk.Shutdown(ToStep<GameServer>(std::move(next))); };
      break;
    case GameState::kQuarantined:
      return [sdk](auto next) {
        sdk.Unhealthy("the game quarantined itself", ToStep<GameServer>(std::move(next)));
      };
    case GameState::kInitializing: break;
  }
  return nullptr;
}

void OnHeartbeat(const ServerSdk& sdk, const std::shared_ptr<Session>& session,
                 const GsdkOptions& o, const Request& req, const Params& p, Reply reply) {
  if (p.Path("id") != sdk.name())
    return reply(api::ErrorResponse(
        404, "NotFound", "no session host " + p.Path("id") + " on this agent port", "id"));
  auto hb = ParseHeartbeat(req.body());
  if (!hb.ok()) return reply(api::ErrorResponse(hb.status()));
  {
    std::lock_guard lock(session->mu);
    if (session->last && hb->state != GameState::kQuarantined && hb->state < *session->last)
      return reply(api::ErrorResponse(400, "InvalidArgument",
                                      "illegal game state change: a game does not go back",
                                      "CurrentGameState"));
  }
  // Health ping, players, then the state change; then answer from the server as it is.
  auto steps = std::make_shared<std::vector<Step>>();
  steps->push_back([sdk](auto next) { sdk.Health(ToStep<bool>(std::move(next))); });
  steps->push_back([sdk, players = hb->players](auto next) {
    sdk.SetConnectedPlayers(players, ToStep<GameServer>(std::move(next)));
  });
  if (hb->unhealthy)
    steps->push_back([sdk](auto next) {
      sdk.Unhealthy("the game reported CurrentGameHealth Unhealthy",
                    ToStep<GameServer>(std::move(next)));
    });
  const GameState reported = hb->state;
  steps->push_back([sdk, reported](auto next) {
    sdk.Get([sdk, reported, next = std::move(next)](core::StatusOr<GameServer> gs) mutable {
      if (!gs.ok()) return next(gs.status());
      Step change = Transition(sdk, reported, gs->status.state);
      if (!change) return next(core::OkStatus());
      change(std::move(next));
    });
  });
  RunSteps(steps, 0, [sdk, session, reported, o, reply](core::Status s) {
    if (!s.ok()) return reply(api::ErrorResponse(s));
    {
      std::lock_guard lock(session->mu);
      session->last = reported;
    }
    sdk.Get([sdk, reported, o, reply](core::StatusOr<GameServer> gs) {
      if (!gs.ok()) return reply(api::ErrorResponse(gs.status()));
      sdk.Node(gs->status.node, [gs = *gs, reported, o, reply](core::StatusOr<core::Node> node) {
        reply(api::JsonResponse(200, Answer(gs, node.ok() ? &*node : nullptr, reported, o)));
      });
    });
  });
}

// ---- DGS callbacks: {serverName, namespace, ...}; serverName must be this server.

std::optional<json> DgsBody(const ServerSdk& sdk, const Request& req, const char* field,
                            Reply& reply) {
  json j = json::parse(req.body(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    reply(api::ErrorResponse(400, "InvalidArgument", "the body must be a JSON object", "body"));
    return std::nullopt;
  }
  if (!j.contains("serverName") || !j["serverName"].is_string()) {
    reply(api::ErrorResponse(400, "InvalidArgument", "required: a string", "serverName"));
    return std::nullopt;
  }
  if (j["serverName"] != sdk.name()) {
    reply(api::ErrorResponse(404, "NotFound",
                             "no server " + j["serverName"].get<std::string>() + " on this port",
                             "serverName"));
    return std::nullopt;
  }
  if (!j.contains(field)) {
    reply(api::ErrorResponse(400, "InvalidArgument", "required", field));
    return std::nullopt;
  }
  return j;
}

Callback<GameServer> Ok(Reply reply) {
  return [reply = std::move(reply)](core::StatusOr<GameServer> r) {
    if (!r.ok()) return reply(api::ErrorResponse(r.status()));
    reply(api::JsonResponse(200, json::object()));
  };
}

// A server marked for deletion is shut down once its players reach 0.
void ShutDownIfDone(const ServerSdk& sdk, Reply reply) {
  sdk.Get([sdk, reply](core::StatusOr<GameServer> gs) {
    if (!gs.ok()) return reply(api::ErrorResponse(gs.status()));
    const bool marked = gs->meta.annotations.count(kMarkedForDeletion) != 0;
    if (marked && gs->status.player_count == 0 &&
        gs->status.state != core::GameServerState::kShutdown)
      return sdk.Shutdown(Ok(reply));
    reply(api::JsonResponse(200, json::object()));
  });
}

// After a change of players or of the mark: shut down if both say so.
Callback<GameServer> ThenShutDownIfDone(const ServerSdk& sdk, Reply reply) {
  return [sdk, reply = std::move(reply)](core::StatusOr<GameServer> r) {
    if (!r.ok()) return reply(api::ErrorResponse(r.status()));
    ShutDownIfDone(sdk, reply);
  };
}

}  // namespace

std::string GsdkTime(core::TimeMs ms) {
  std::string t = codec::FormatTime(ms);  // "2026-01-01T10:00:00.000Z"
  if (t.size() == 24) t.erase(19, 4);     // the GSDKs' form has no milliseconds
  return t;
}

core::StatusOr<std::map<std::string, std::string>> WriteGsdkConfig(const core::GameServer& gs,
                                                                   const core::Fleet* fleet,
                                                                   const GsdkOptions& o) {
  // This runs on the owner thread before every spawn, so it makes few file-system calls:
  // one mkdir and one file. The shared folders exist already (PrepareGsdkDir).
  const std::string& name = gs.meta.name;
  const std::string logs = o.dir + "/logs/" + name, certs = o.dir + "/certs",
                    shared = o.dir + "/shared";
  if (::mkdir(logs.c_str(), 0755) != 0 && errno != EEXIST)
    return core::Status(core::Code::kInternal,
                        "cannot create " + logs + ": " + std::strerror(errno));

  const std::string endpoint = "127.0.0.1:" + std::to_string(gs.status.sdk_http_port);
  json ports = json::object(), ports_config = json::array();
  for (const auto& p : gs.status.ports) {
    ports[p.name] = std::to_string(p.port);
    // Embedded mode: the process listens on the host port players connect to.
    ports_config.push_back(
        {{"name", p.name}, {"serverListeningPort", p.port}, {"clientConnectionPort", p.port}});
  }
  json metadata = json::object();
  for (const auto& [k, v] : gs.meta.labels) metadata[k] = v;
  const std::string build_id =
      fleet && !fleet->spec.build_id.empty() ? fleet->spec.build_id : gs.fleet;
  json config = {
      {"heartbeatEndpoint", endpoint},
      {"sessionHostId", name},
      {"vmId", gs.status.node},
      {"logFolder", logs + "/"},
      {"sharedContentFolder", shared + "/"},
      {"certificateFolder", certs + "/"},
      {"gameCertificates", json::object()},
      {"buildMetadata", metadata},
      {"gamePorts", ports},
      {"publicIpV4Address", gs.status.address},
      {"fullyQualifiedDomainName", gs.status.address},
      {"serverInstanceNumber", 0},
      // The GSDKs read this key as spelled here ("Adress"); see the reference.
      {"gameServerConnectionInfo",
       {{"publicIpV4Adress", gs.status.address}, {"gamePortsConfiguration", ports_config}}},
  };
  // Written whole before the process starts, so no reader sees it half written.
  const std::string path = ConfigPath(name, o);
  {
    std::ofstream out(path, std::ios::trunc);
    out << config.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
    if (!out) return core::Status(core::Code::kInternal, "cannot write " + path);
  }
  return std::map<std::string, std::string>{
      {"GSDK_CONFIG_FILE", path},       {"PF_TITLE_ID", o.title_id},
      {"PF_BUILD_ID", build_id},        {"PF_REGION", o.region},
      {"HEARTBEAT_ENDPOINT", endpoint}, {"SESSION_HOST_ID", name},
      {"GSDK_LOG_FOLDER", logs + "/"},  {"SHARED_CONTENT_FOLDER", shared + "/"},
      {"PF_VM_ID", gs.status.node},
  };
}

void RemoveGsdkConfig(const std::string& name, const GsdkOptions& o) {
  std::error_code ec;
  fs::remove(ConfigPath(name, o), ec);
  fs::remove_all(o.dir + "/logs/" + name, ec);
}

core::Status PrepareGsdkDir(const GsdkOptions& o) {
  std::error_code ec;
  for (const char* sub : {"/logs", "/certs", "/shared"}) {
    fs::create_directories(o.dir + sub, ec);
    if (ec)
      return core::Status(core::Code::kInternal,
                          "cannot create " + o.dir + sub + ": " + ec.message());
  }
  return core::OkStatus();
}

std::vector<api::Route> GsdkAgentRoutes(const ServerSdk& sdk, const GsdkOptions& o) {
  using api::Scope;
  const Scope open = Scope::kPublic;  // the port itself is the credential (loopback only)
  auto session = std::make_shared<Session>();
  auto heartbeat = [sdk, session, o](const Request& req, const Params& p, Reply reply) {
    OnHeartbeat(sdk, session, o, req, p, std::move(reply));
  };
  return {
      // ---- PlayFab GSDK: both heartbeat forms, and the start-up report
      {http::patch, "/v1/sessionHosts/{id}", open, heartbeat},
      {http::post, "/v1/sessionHosts/{id}/heartbeats", open, heartbeat},
      {http::post, "/v1/metrics/{id}/gsdkinfo", open,
       [sdk](const Request& req, const Params& p, Reply reply) {
         if (p.Path("id") != sdk.name())
           return reply(
               api::ErrorResponse(404, "NotFound", "no session host " + p.Path("id"), "id"));
         json j = json::parse(req.body(), nullptr, false);
         if (j.is_discarded() || !j.is_object())
           return reply(api::ErrorResponse(400, "InvalidArgument", "the body must be a JSON object",
                                           "body"));
         auto text = [&](const char* key) {  // informational: any other type reads as "?"
           return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "?";
         };
         spdlog::info("game server {}: GSDK {} {}", sdk.name(), text("Flavor"), text("Version"));
         reply(api::JsonResponse(200, json::object()));
       }},

      // ---- Azure DGS callbacks
      {http::post, "/setactiveplayers", open,
       [sdk](const Request& req, const Params&, Reply reply) {
         auto j = DgsBody(sdk, req, "playerCount", reply);
         if (!j) return;
         if (!(*j)["playerCount"].is_number_integer())
           return reply(
               api::ErrorResponse(core::InvalidArgument("must be a whole number", "playerCount")));
         sdk.SetPlayerCount((*j)["playerCount"].get<int64_t>(), ThenShutDownIfDone(sdk, reply));
       }},
      {http::post, "/setsdgshealth", open,
       [sdk](const Request& req, const Params&, Reply reply) {
         auto j = DgsBody(sdk, req, "health", reply);
         if (!j) return;
         const json& h = (*j)["health"];
         if (h == "Failed") return sdk.Unhealthy("the game reported health Failed", Ok(reply));
         if (h != "Healthy" && h != "Creating")
           return reply(api::ErrorResponse(
               core::InvalidArgument("must be Creating, Healthy or Failed", "health")));
         sdk.Health([reply](core::StatusOr<bool> r) {
           if (!r.ok()) return reply(api::ErrorResponse(r.status()));
           reply(api::JsonResponse(200, json::object()));
         });
       }},
      {http::post, "/setdgsmarkedfordeletion", open,
       [sdk](const Request& req, const Params&, Reply reply) {
         auto j = DgsBody(sdk, req, "markedForDeletion", reply);
         if (!j) return;
         if (!(*j)["markedForDeletion"].is_boolean())
           return reply(api::ErrorResponse(
               core::InvalidArgument("must be true or false", "markedForDeletion")));
         const bool marked = (*j)["markedForDeletion"];
         sdk.Edit(
             [marked](GameServer& gs) -> core::StatusOr<bool> {
               if (marked) return gs.meta.annotations.emplace(kMarkedForDeletion, "true").second;
               return gs.meta.annotations.erase(kMarkedForDeletion) > 0;
             },
             ThenShutDownIfDone(sdk, reply));
       }},
      {http::post, "/setdgsstate", open,
       [sdk](const Request& req, const Params&, Reply reply) {
         auto j = DgsBody(sdk, req, "state", reply);
         if (!j) return;
         const json& s = (*j)["state"];
         if (s == "Idle") return sdk.Ready(Ok(reply));         // waiting for a match
         if (s == "Assigned") return sdk.Allocate(Ok(reply));  // a match took it
         if (s == "Running" || s == "PostMatch")               // the match goes on / ends
           return sdk.Get(Ok(reply));
         reply(api::ErrorResponse(
             core::InvalidArgument("must be Idle, Assigned, Running or PostMatch", "state")));
       }},
  };
}

}  // namespace muster::sdk
