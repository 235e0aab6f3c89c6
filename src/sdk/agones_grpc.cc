#include "sdk/agones_grpc.h"

#include <deque>
#include <mutex>

#include <grpcpp/grpcpp.h>

#include "agones/alpha.grpc.pb.h"
#include "agones/beta.grpc.pb.h"
#include "agones/sdk.grpc.pb.h"
#include "sdk/agones_proto.h"

namespace muster::sdk {
namespace {

namespace alpha = pb::alpha;
namespace beta = pb::beta;
using grpc::CallbackServerContext;
using grpc::ServerUnaryReactor;

grpc::Status ToGrpc(const core::Status& s) {
  using C = grpc::StatusCode;
  C code = C::UNKNOWN;
  switch (s.code()) {
    case core::Code::kOk: return grpc::Status::OK;
    case core::Code::kInvalidArgument: code = C::INVALID_ARGUMENT; break;
    case core::Code::kUnauthenticated: code = C::UNAUTHENTICATED; break;
    case core::Code::kPermissionDenied: code = C::PERMISSION_DENIED; break;
    case core::Code::kNotFound: code = C::NOT_FOUND; break;
    case core::Code::kAlreadyExists: code = C::ALREADY_EXISTS; break;
    case core::Code::kFailedPrecondition: code = C::FAILED_PRECONDITION; break;
    case core::Code::kAborted: code = C::ABORTED; break;
    case core::Code::kResourceExhausted: code = C::RESOURCE_EXHAUSTED; break;
    case core::Code::kOutOfRange: code = C::OUT_OF_RANGE; break;
    case core::Code::kUnavailable: code = C::UNAVAILABLE; break;
    case core::Code::kInternal: code = C::INTERNAL; break;
  }
  std::string message = s.message();
  if (!s.field().empty()) message += " (field " + s.field() + ")";
  return grpc::Status(code, message);
}

// Finishes a unary call when the controller answers: `fill(value)` writes the response.
template <typename T, typename Fill>
Callback<T> Finish(ServerUnaryReactor* reactor, Fill fill) {
  return [reactor, fill = std::move(fill)](core::StatusOr<T> r) {
    if (!r.ok()) return reactor->Finish(ToGrpc(r.status()));
    fill(*r);
    reactor->Finish(grpc::Status::OK);
  };
}

template <typename T>
Callback<T> FinishEmpty(ServerUnaryReactor* reactor) {
  return Finish<T>(reactor, [](const T&) {});
}

// Health: a client stream of pings, each recorded; answered once the client ends it.
class HealthReactor : public grpc::ServerReadReactor<pb::Empty> {
 public:
  explicit HealthReactor(const ServerSdk& sdk) : sdk_(sdk) { StartRead(&ping_); }
  void OnReadDone(bool ok) override {
    if (!ok) return Finish(grpc::Status::OK);  // the client half-closed, or went away
    sdk_.Health([](core::StatusOr<bool>) {});
    StartRead(&ping_);
  }
  void OnDone() override { delete this; }

 private:
  ServerSdk sdk_;
  pb::Empty ping_;
};

// WatchGameServer: the server at once, then one message per change, until the client
// cancels or the server is gone. Writes go out one at a time from a queue; the queue
// is shared with the controller's watch callback, which may outlive this reactor.
class WatchReactor : public grpc::ServerWriteReactor<pb::GameServer> {
 public:
  explicit WatchReactor(const ServerSdk& sdk) : sdk_(sdk), q_(std::make_shared<Queue>()) {
    q_->reactor = this;
    id_ = sdk_.Watch([q = q_](const GameServer* gs) { q->Push(gs); });
  }
  void OnWriteDone(bool ok) override {
    std::lock_guard lock(q_->mu);
    q_->pending.pop_front();
    q_->writing = false;
    if (!ok) return q_->FinishLocked(grpc::Status::CANCELLED);
    q_->NextLocked();
  }
  void OnCancel() override {
    std::lock_guard lock(q_->mu);
    q_->FinishLocked(grpc::Status::CANCELLED);
  }
  void OnDone() override {
    sdk_.Unwatch(id_);
    {
      std::lock_guard lock(q_->mu);
      q_->reactor = nullptr;
    }
    delete this;
  }

 private:
  struct Queue {
    std::recursive_mutex mu;
    WatchReactor* reactor = nullptr;     // null once done
    std::deque<pb::GameServer> pending;  // front is being written while `writing`
    bool writing = false, ending = false, finished = false;

    void Push(const GameServer* gs) {
      std::lock_guard lock(mu);
      if (!reactor || finished) return;
      if (!gs) {
        ending = true;
      } else {
        // A slow reader gets the newest state rather than an ever-growing backlog.
        if (pending.size() >= 64) pending.pop_back();
        ToProto(*gs, &pending.emplace_back());
      }
      NextLocked();
    }
    void NextLocked() {
      if (!reactor || finished || writing) return;
      if (!pending.empty()) {
        writing = true;
        reactor->StartWrite(&pending.front());
      } else if (ending) {
        FinishLocked(grpc::Status::OK);
      }
    }
    void FinishLocked(const grpc::Status& s) {
      if (!reactor || finished) return;
      finished = true;
      reactor->Finish(s);
    }
  };
  ServerSdk sdk_;
  std::shared_ptr<Queue> q_;
  uint64_t id_ = 0;
};

class Stable final : public pb::SDK::CallbackService {
 public:
  explicit Stable(const ServerSdk& sdk) : sdk_(sdk) {}

  ServerUnaryReactor* Ready(CallbackServerContext* ctx, const pb::Empty*, pb::Empty*) override {
    auto* r = ctx->DefaultReactor();
    sdk_.Ready(FinishEmpty<GameServer>(r));
    return r;
  }
  ServerUnaryReactor* Allocate(CallbackServerContext* ctx, const pb::Empty*, pb::Empty*) override {
    auto* r = ctx->DefaultReactor();
    sdk_.Allocate(FinishEmpty<GameServer>(r));
    return r;
  }
  ServerUnaryReactor* Shutdown(CallbackServerContext* ctx, const pb::Empty*, pb::Empty*) override {
    auto* r = ctx->DefaultReactor();
    sdk_.Shutdown(FinishEmpty<GameServer>(r));
    return r;
  }
  grpc::ServerReadReactor<pb::Empty>* Health(CallbackServerContext*, pb::Empty*) override {
    return new HealthReactor(sdk_);
  }
  ServerUnaryReactor* GetGameServer(CallbackServerContext* ctx, const pb::Empty*,
                                    pb::GameServer* out) override {
    auto* r = ctx->DefaultReactor();
    sdk_.Get(Finish<GameServer>(r, [out](const GameServer& gs) { ToProto(gs, out); }));
    return r;
  }
  grpc::ServerWriteReactor<pb::GameServer>* WatchGameServer(CallbackServerContext*,
                                                            const pb::Empty*) override {
    return new WatchReactor(sdk_);
  }
  ServerUnaryReactor* SetLabel(CallbackServerContext* ctx, const pb::KeyValue* kv,
                               pb::Empty*) override {
    auto* r = ctx->DefaultReactor();
    sdk_.SetLabel(kv->key(), kv->value(), FinishEmpty<GameServer>(r));
    return r;
  }
  ServerUnaryReactor* SetAnnotation(CallbackServerContext* ctx, const pb::KeyValue* kv,
                                    pb::Empty*) override {
    auto* r = ctx->DefaultReactor();
    sdk_.SetAnnotation(kv->key(), kv->value(), FinishEmpty<GameServer>(r));
    return r;
  }
  ServerUnaryReactor* Reserve(CallbackServerContext* ctx, const pb::Duration* d,
                              pb::Empty*) override {
    auto* r = ctx->DefaultReactor();
    if (d->seconds() < 0) {
      r->Finish(ToGrpc(core::InvalidArgument("must not be negative", "seconds")));
      return r;
    }
    sdk_.Reserve(d->seconds(), FinishEmpty<GameServer>(r));
    return r;
  }

 private:
  ServerSdk sdk_;
};

class Alpha final : public alpha::SDK::CallbackService {
 public:
  explicit Alpha(const ServerSdk& sdk) : sdk_(sdk) {}

  ServerUnaryReactor* PlayerConnect(CallbackServerContext* ctx, const alpha::PlayerID* p,
                                    alpha::Bool* out) override {
    auto* r = ctx->DefaultReactor();
    sdk_.PlayerConnect(p->playerid(), Finish<bool>(r, [out](bool b) { out->set_bool_(b); }));
    return r;
  }
  ServerUnaryReactor* PlayerDisconnect(CallbackServerContext* ctx, const alpha::PlayerID* p,
                                       alpha::Bool* out) override {
    auto* r = ctx->DefaultReactor();
    sdk_.PlayerDisconnect(p->playerid(), Finish<bool>(r, [out](bool b) { out->set_bool_(b); }));
    return r;
  }
  ServerUnaryReactor* SetPlayerCapacity(CallbackServerContext* ctx, const alpha::Count* c,
                                        alpha::Empty*) override {
    auto* r = ctx->DefaultReactor();
    sdk_.SetPlayerCapacity(c->count(), FinishEmpty<GameServer>(r));
    return r;
  }
  ServerUnaryReactor* GetPlayerCapacity(CallbackServerContext* ctx, const alpha::Empty*,
                                        alpha::Count* out) override {
    return Read(ctx, [out](const GameServer& gs) { out->set_count(gs.status.player_capacity); });
  }
  ServerUnaryReactor* GetPlayerCount(CallbackServerContext* ctx, const alpha::Empty*,
                                     alpha::Count* out) override {
    return Read(ctx, [out](const GameServer& gs) { out->set_count(gs.status.player_count); });
  }
  ServerUnaryReactor* IsPlayerConnected(CallbackServerContext* ctx, const alpha::PlayerID* p,
                                        alpha::Bool* out) override {
    return Read(ctx, [out, id = p->playerid()](const GameServer& gs) {
      const auto& ids = gs.status.player_ids;
      out->set_bool_(std::find(ids.begin(), ids.end(), id) != ids.end());
    });
  }
  ServerUnaryReactor* GetConnectedPlayers(CallbackServerContext* ctx, const alpha::Empty*,
                                          alpha::PlayerIDList* out) override {
    return Read(ctx, [out](const GameServer& gs) {
      for (const auto& id : gs.status.player_ids) out->add_list(id);
    });
  }

 private:
  template <typename Fill>
  ServerUnaryReactor* Read(CallbackServerContext* ctx, Fill fill) {
    auto* r = ctx->DefaultReactor();
    sdk_.Get(Finish<GameServer>(r, std::move(fill)));
    return r;
  }
  ServerSdk sdk_;
};

auto CounterInto(std::string name, beta::Counter* out) {
  return [name, out](const core::CounterStatus& c) { ToProto(name, c, out); };
}
auto ListInto(std::string name, beta::List* out) {
  return [name, out](const core::ListStatus& l) { ToProto(name, l, out); };
}

class Beta final : public beta::SDK::CallbackService {
 public:
  explicit Beta(const ServerSdk& sdk) : sdk_(sdk) {}

  ServerUnaryReactor* GetCounter(CallbackServerContext* ctx, const beta::GetCounterRequest* req,
                                 beta::Counter* out) override {
    auto* r = ctx->DefaultReactor();
    sdk_.GetCounter(req->name(), Finish<core::CounterStatus>(r, CounterInto(req->name(), out)));
    return r;
  }
  ServerUnaryReactor* UpdateCounter(CallbackServerContext* ctx,
                                    const beta::UpdateCounterRequest* req,
                                    beta::Counter* out) override {
    auto* r = ctx->DefaultReactor();
    const auto& u = req->counterupdaterequest();
    core::CounterUpdate update;
    if (u.has_count()) update.count = u.count().value();
    if (u.has_capacity()) update.capacity = u.capacity().value();
    update.diff = u.countdiff();
    sdk_.UpdateCounter(u.name(), update,
                       Finish<core::CounterStatus>(r, CounterInto(u.name(), out)));
    return r;
  }
  ServerUnaryReactor* GetList(CallbackServerContext* ctx, const beta::GetListRequest* req,
                              beta::List* out) override {
    auto* r = ctx->DefaultReactor();
    sdk_.GetList(req->name(), Finish<core::ListStatus>(r, ListInto(req->name(), out)));
    return r;
  }
  ServerUnaryReactor* UpdateList(CallbackServerContext* ctx, const beta::UpdateListRequest* req,
                                 beta::List* out) override {
    auto* r = ctx->DefaultReactor();
    const auto& mask = req->update_mask().paths();
    auto update = ListUpdateFor(req->list(), std::vector<std::string>(mask.begin(), mask.end()));
    if (!update.ok()) {
      r->Finish(ToGrpc(update.status()));
      return r;
    }
    const std::string name = req->list().name();
    sdk_.UpdateList(name, *update, Finish<core::ListStatus>(r, ListInto(name, out)));
    return r;
  }
  ServerUnaryReactor* AddListValue(CallbackServerContext* ctx, const beta::AddListValueRequest* req,
                                   beta::List* out) override {
    auto* r = ctx->DefaultReactor();
    sdk_.AddListValue(req->name(), req->value(),
                      Finish<core::ListStatus>(r, ListInto(req->name(), out)));
    return r;
  }
  ServerUnaryReactor* RemoveListValue(CallbackServerContext* ctx,
                                      const beta::RemoveListValueRequest* req,
                                      beta::List* out) override {
    auto* r = ctx->DefaultReactor();
    sdk_.RemoveListValue(req->name(), req->value(),
                         Finish<core::ListStatus>(r, ListInto(req->name(), out)));
    return r;
  }

 private:
  ServerSdk sdk_;
};

}  // namespace

struct AgonesGrpc::Services {
  explicit Services(const ServerSdk& sdk) : stable(sdk), alpha(sdk), beta(sdk) {}
  Stable stable;
  Alpha alpha;
  Beta beta;
};

core::StatusOr<std::unique_ptr<AgonesGrpc>> AgonesGrpc::Start(const ServerSdk& sdk, int port) {
  std::unique_ptr<AgonesGrpc> out(new AgonesGrpc());
  out->services_ = std::make_unique<Services>(sdk);
  grpc::ServerBuilder builder;
  int bound = 0;
  builder.AddListeningPort("127.0.0.1:" + std::to_string(port), grpc::InsecureServerCredentials(),
                           &bound);
  builder.RegisterService(&out->services_->stable);
  builder.RegisterService(&out->services_->alpha);
  builder.RegisterService(&out->services_->beta);
  out->server_ = builder.BuildAndStart();
  if (!out->server_ || bound == 0)
    return core::Status(core::Code::kUnavailable,
                        "cannot serve gRPC on 127.0.0.1:" + std::to_string(port));
  return out;
}

AgonesGrpc::~AgonesGrpc() {
  if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
}

}  // namespace muster::sdk
