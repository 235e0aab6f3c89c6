#include "sdk/agones_rest.h"

#include "api/responses.h"
#include "sdk/agones_proto.h"

namespace muster::sdk {
namespace {

using api::Params;
using api::Reply;
using api::Request;
using api::RouteHandler;
using http = api::http::verb;
namespace alpha = pb::alpha;
namespace beta = pb::beta;

api::Response ProtoResponse(const google::protobuf::Message& m) {
  api::Response res = api::TextResponse(200, GatewayJson(m) + "\n");
  res.set(api::http::field::content_type, "application/json");
  return res;
}

// Answers the error, or the message `make(value)` builds.
template <typename T, typename Make>
Callback<T> Answer(Reply reply, Make make) {
  return [reply = std::move(reply), make = std::move(make)](core::StatusOr<T> r) {
    if (!r.ok()) return reply(api::ErrorResponse(r.status()));
    reply(ProtoResponse(make(*r)));
  };
}

// Answers `{}` on success.
template <typename T>
Callback<T> AnswerEmpty(Reply reply) {
  return Answer<T>(std::move(reply), [](const T&) { return pb::Empty(); });
}

// A route whose body is the message `Body` (empty body = `{}` unless `body_required`).
template <typename Body, typename F>
RouteHandler WithBody(F f, bool body_required = false) {
  return [f = std::move(f), body_required](const Request& req, const Params& params, Reply reply) {
    if (body_required && req.body().empty())
      return reply(
          api::ErrorResponse(400, "InvalidArgument", "a JSON body is required, e.g. {}", "body"));
    Body body;
    if (core::Status s = ParseGatewayJson(req.body(), &body); !s.ok())
      return reply(api::ErrorResponse(s));
    f(body, params, std::move(reply));
  };
}

// A GET route: no body.
template <typename F>
RouteHandler NoBody(F f) {
  return [f = std::move(f)](const Request&, const Params& params, Reply reply) {
    f(params, std::move(reply));
  };
}

pb::GameServer ServerProto(const GameServer& gs) {
  pb::GameServer out;
  ToProto(gs, &out);
  return out;
}

alpha::Bool BoolProto(bool b) {
  alpha::Bool out;
  out.set_bool_(b);
  return out;
}

alpha::Count CountProto(int64_t n) {
  alpha::Count out;
  out.set_count(n);
  return out;
}

auto CounterAnswer(const std::string& name) {
  return [name](const core::CounterStatus& c) {
    beta::Counter out;
    ToProto(name, c, &out);
    return out;
  };
}

auto ListAnswer(const std::string& name) {
  return [name](const core::ListStatus& l) {
    beta::List out;
    ToProto(name, l, &out);
    return out;
  };
}

// The fields a PATCH of a list changes: ?update_mask=a,b (or updateMask), else the fields
// its body names, as the gateway derives a mask from a PATCH body. nullopt: none at all.
std::optional<std::vector<std::string>> RestListMask(const Request& req, const Params& p) {
  std::vector<std::string> paths;
  const std::string mask = p.Query("update_mask", p.Query("updateMask"));
  if (!mask.empty()) {
    for (size_t start = 0; start <= mask.size();) {
      size_t comma = std::min(mask.find(',', start), mask.size());
      if (comma > start) paths.push_back(mask.substr(start, comma - start));
      start = comma + 1;
    }
    return paths;
  }
  nlohmann::json body = nlohmann::json::parse(req.body(), nullptr, false);
  if (body.is_object())
    for (const char* field : {"capacity", "values"})
      if (body.contains(field)) paths.push_back(field);
  if (paths.empty()) return std::nullopt;
  return paths;
}

// GET /watch/gameserver: the server now, then one `{"result": GameServer}` line per change.
void Watch(const ServerSdk& sdk, Reply reply) {
  if (!reply.can_stream()) return reply(api::CannotStream());
  api::Response head{api::http::status::ok, 11};
  head.set(api::http::field::content_type, "application/json");
  reply.Stream(std::move(head), [sdk](std::shared_ptr<api::ChunkSink> sink) {
    const uint64_t id = sdk.Watch([sink](const GameServer* gs) {
      if (!gs) return sink->End();
      sink->Write("{\"result\":" + GatewayJson(ServerProto(*gs)) + "}\n");
    });
    sink->OnClosed([sdk, id] { sdk.Unwatch(id); });
  });
}

}  // namespace

std::vector<api::Route> AgonesRestRoutes(const ServerSdk& sdk) {
  using api::Scope;
  const Scope open = Scope::kPublic;  // the port itself is the credential (loopback only)
  return {
      // ---- stable: agones.dev.sdk.SDK
      {http::post, "/ready", open,
       WithBody<pb::Empty>([sdk](const pb::Empty&, const Params&, Reply r) {
         sdk.Ready(AnswerEmpty<GameServer>(std::move(r)));
       })},
      {http::post, "/allocate", open,
       WithBody<pb::Empty>([sdk](const pb::Empty&, const Params&, Reply r) {
         sdk.Allocate(AnswerEmpty<GameServer>(std::move(r)));
       })},
      {http::post, "/shutdown", open,
       WithBody<pb::Empty>([sdk](const pb::Empty&, const Params&, Reply r) {
         sdk.Shutdown(AnswerEmpty<GameServer>(std::move(r)));
       })},
      {http::post, "/health", open,
       WithBody<pb::Empty>([sdk](const pb::Empty&, const Params&,
                                 Reply r) { sdk.Health(AnswerEmpty<bool>(std::move(r))); },
                           /*body_required=*/true)},
      {http::get, "/gameserver", open, NoBody([sdk](const Params&, Reply r) {
         sdk.Get(Answer<GameServer>(std::move(r), ServerProto));
       })},
      {http::get, "/watch/gameserver", open,
       NoBody([sdk](const Params&, Reply r) { Watch(sdk, std::move(r)); })},
      {http::put, "/metadata/label", open,
       WithBody<pb::KeyValue>([sdk](const pb::KeyValue& kv, const Params&, Reply r) {
         sdk.SetLabel(kv.key(), kv.value(), AnswerEmpty<GameServer>(std::move(r)));
       })},
      {http::put, "/metadata/annotation", open,
       WithBody<pb::KeyValue>([sdk](const pb::KeyValue& kv, const Params&, Reply r) {
         sdk.SetAnnotation(kv.key(), kv.value(), AnswerEmpty<GameServer>(std::move(r)));
       })},
      {http::post, "/reserve", open,
       WithBody<pb::Duration>([sdk](const pb::Duration& d, const Params&, Reply r) {
         if (d.seconds() < 0)
           return r(api::ErrorResponse(core::InvalidArgument("must not be negative", "seconds")));
         sdk.Reserve(d.seconds(), AnswerEmpty<GameServer>(std::move(r)));
       })},

      // ---- alpha: agones.dev.sdk.alpha.SDK (players)
      {http::post, "/alpha/player/connect", open,
       WithBody<alpha::PlayerID>([sdk](const alpha::PlayerID& p, const Params&, Reply r) {
         sdk.PlayerConnect(p.playerid(), Answer<bool>(std::move(r), BoolProto));
       })},
      {http::post, "/alpha/player/disconnect", open,
       WithBody<alpha::PlayerID>([sdk](const alpha::PlayerID& p, const Params&, Reply r) {
         sdk.PlayerDisconnect(p.playerid(), Answer<bool>(std::move(r), BoolProto));
       })},
      {http::put, "/alpha/player/capacity", open,
       WithBody<alpha::Count>([sdk](const alpha::Count& c, const Params&, Reply r) {
         sdk.SetPlayerCapacity(c.count(), AnswerEmpty<GameServer>(std::move(r)));
       })},
      {http::get, "/alpha/player/capacity", open, NoBody([sdk](const Params&, Reply r) {
         sdk.Get(Answer<GameServer>(std::move(r), [](const GameServer& gs) {
           return CountProto(gs.status.player_capacity);
         }));
       })},
      {http::get, "/alpha/player/count", open, NoBody([sdk](const Params&, Reply r) {
         sdk.Get(Answer<GameServer>(std::move(r), [](const GameServer& gs) {
           return CountProto(gs.status.player_count);
         }));
       })},
      {http::get, "/alpha/player/connected/{playerID}", open,
       NoBody([sdk](const Params& p, Reply r) {
         sdk.Get(Answer<GameServer>(std::move(r), [id = p.Path("playerID")](const GameServer& gs) {
           const auto& ids = gs.status.player_ids;
           return BoolProto(std::find(ids.begin(), ids.end(), id) != ids.end());
         }));
       })},
      {http::get, "/alpha/player/connected", open, NoBody([sdk](const Params&, Reply r) {
         sdk.Get(Answer<GameServer>(std::move(r), [](const GameServer& gs) {
           alpha::PlayerIDList out;
           for (const auto& id : gs.status.player_ids) out.add_list(id);
           return out;
         }));
       })},

      // ---- beta: agones.dev.sdk.beta.SDK (counters and lists)
      {http::get, "/v1beta1/counters/{name}", open, NoBody([sdk](const Params& p, Reply r) {
         const std::string name = p.Path("name");
         sdk.GetCounter(name, Answer<core::CounterStatus>(std::move(r), CounterAnswer(name)));
       })},
      {http::patch, "/v1beta1/counters/{name}", open,
       WithBody<beta::CounterUpdateRequest>(
           [sdk](const beta::CounterUpdateRequest& u, const Params& p, Reply r) {
             const std::string name = p.Path("name");
             core::CounterUpdate update;
             if (u.has_count()) update.count = u.count().value();
             if (u.has_capacity()) update.capacity = u.capacity().value();
             update.diff = u.countdiff();
             sdk.UpdateCounter(name, update,
                               Answer<core::CounterStatus>(std::move(r), CounterAnswer(name)));
           })},
      {http::get, "/v1beta1/lists/{name}", open, NoBody([sdk](const Params& p, Reply r) {
         const std::string name = p.Path("name");
         sdk.GetList(name, Answer<core::ListStatus>(std::move(r), ListAnswer(name)));
       })},
      {http::patch, "/v1beta1/lists/{name}", open,
       [sdk](const Request& req, const Params& p, Reply r) {
         beta::List list;
         if (core::Status s = ParseGatewayJson(req.body(), &list); !s.ok())
           return r(api::ErrorResponse(s));
         auto paths = RestListMask(req, p);
         core::StatusOr<core::ListUpdate> update =
             paths ? ListUpdateFor(list, *paths) : core::ListUpdate{};
         if (!update.ok()) return r(api::ErrorResponse(update.status()));
         const std::string name = p.Path("name");
         sdk.UpdateList(name, *update, Answer<core::ListStatus>(std::move(r), ListAnswer(name)));
       }},
      {http::post, "/v1beta1/lists/{name}:addValue", open,
       WithBody<beta::AddListValueRequest>(
           [sdk](const beta::AddListValueRequest& a, const Params& p, Reply r) {
             const std::string name = p.Path("name");
             sdk.AddListValue(name, a.value(),
                              Answer<core::ListStatus>(std::move(r), ListAnswer(name)));
           })},
      {http::post, "/v1beta1/lists/{name}:removeValue", open,
       WithBody<beta::RemoveListValueRequest>(
           [sdk](const beta::RemoveListValueRequest& a, const Params& p, Reply r) {
             const std::string name = p.Path("name");
             sdk.RemoveListValue(name, a.value(),
                                 Answer<core::ListStatus>(std::move(r), ListAnswer(name)));
           })},
  };
}

}  // namespace muster::sdk
