// Controller: allocation, reservations, registered servers, tokens.
#include <algorithm>

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include "codec/json_codec.h"
#include "control/controller.h"

namespace muster::control {

using core::GameServer;
using core::GameServerState;
using core::Status;
using store::Change;

namespace {

// A random (version 4) UUID, for allocations that bring no sessionId.
std::string NewUuid(std::mt19937_64& rng) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  uint64_t a = rng(), b = rng();
  for (int i = 0; i < 32; ++i) {
    int nibble = static_cast<int>(((i < 16 ? a : b) >> ((i % 16) * 4)) & 0xf);
    if (i == 12) nibble = 4;
    if (i == 16) nibble = 8 | (nibble & 3);
    out += hex[nibble];
    if (i == 7 || i == 11 || i == 15 || i == 19) out += '-';
  }
  return out;
}

// How a server chosen for an allocation ended it before the answer: "was deleted", or
// its state now ("shut down", "became Unhealthy").
std::string EndedHow(const GameServer* gs) {
  if (!gs || gs->meta.deletion_ms != 0) return "was deleted";
  switch (gs->status.state) {
    case GameServerState::kShutdown: return "shut down";
    case GameServerState::kAllocated: return "was given to another session";
    case GameServerState::kReady: return "was made Ready again";
    default: return std::string("became ") + core::StateName(gs->status.state);
  }
}

// The session a join joined: its id and when its server was allocated to it.
struct JoinedSession {
  std::string session_id;
  core::TimeMs allocated_ms = 0;
};

// A join whose id the server no longer holds still stands if the session it joined runs
// there yet: kJoinsRemembered later joins of that session, staged before this one was
// durable, pushed its id out (the list is full).
bool StillJoined(const GameServer& gs, const JoinedSession& joined) {
  const auto& now = gs.status.allocation;
  return gs.status.state == GameServerState::kAllocated && gs.meta.deletion_ms == 0 && now &&
         now->session_id == joined.session_id && now->allocated_ms == joined.allocated_ms &&
         now->joined.size() == core::kJoinsRemembered;
}

}  // namespace

void Controller::AfterDurable(Done done) {
  if (staged_.empty() && unsynced_batches_ == 0) return done(core::OkStatus());
  waiters_.push_back(std::move(done));  // resolved by the next batch, durable after any earlier
  ScheduleFlush();
}

void Controller::Allocate(core::AllocationRequest req, Callback<AllocationResult> done) {
  boost::asio::post(owner_, [this, req = std::move(req), done = std::move(done)]() mutable {
    if (!req.build_id.empty()) {
      for (const auto& [name, f] : world_.fleets())
        if (core::SameUuid(f.spec.build_id, req.build_id)) req.fleet = name;
      if (req.fleet.empty())
        return done(
            Status(core::Code::kNotFound, "no fleet has buildID " + req.build_id, "buildID"));
    } else if (!req.fleet.empty() && !world_.FindFleet(req.fleet)) {
      return done(Status(core::Code::kNotFound, "fleet " + req.fleet + " not found", "fleet"));
    }

    if (!req.session_id.empty()) {
      // A session that is still on a server gets that server again (after a restart too:
      // the session is in the server's stored status). The answer rests on the session's
      // write, so it is decided once that is durable, on the server as it is then.
      if (world_.FindSession(req.session_id))
        return AfterDurable([this, req, done](Status s) {
          if (!s.ok()) return done(s);
          Replay(req, done);
        });
    } else {
      req.session_id = NewUuid(rng_);
    }

    std::optional<std::string> chosen = world_.index().Select(req);
    if (!chosen) {
      std::string where = req.fleet.empty() ? "" : " in fleet " + req.fleet;
      return done(Status(core::Code::kResourceExhausted,
                         req.selectors.empty()
                             ? "no game server is Ready" + where + " now; try again later"
                             : "no game server" + where + " matches the selectors now"));
    }
    const core::TimeMs now = clock_.Now();
    GameServer gs = *world_.FindServer(*chosen);
    std::optional<JoinedSession> joined;  // for a join
    for (const auto& [k, v] : req.labels) gs.meta.labels[k] = v;
    for (const auto& [k, v] : req.annotations) gs.meta.annotations[k] = v;
    gs.meta.annotations[core::kLastAllocatedAnnotation] = codec::FormatTime(now);
    if (gs.status.state == GameServerState::kReady) {  // a fresh session
      gs.status.allocation =
          core::AllocationInfo{req.session_id, req.session_cookie, req.initial_players, now, {}};
      gs.status.state_since_ms = now;
    } else {  // joining a running session: remembered, so a repeat finds this server again
      if (!gs.status.allocation) gs.status.allocation = core::AllocationInfo{};
      joined = JoinedSession{gs.status.allocation->session_id, gs.status.allocation->allocated_ms};
      core::RememberJoin(*gs.status.allocation, req.session_id);
    }
    for (const std::string& skipped : core::ApplyAllocationActions(gs, req))
      spdlog::warn("allocation of game server {}: {}; skipped", gs.meta.name, skipped);
    gs.status.state = GameServerState::kAllocated;
    gs.status.reason.clear();
    gs.status.message.clear();
    std::string name = gs.meta.name;
    StageServer(std::move(gs), [this, done = std::move(done), name, joined = std::move(joined),
                                session = std::move(req.session_id)](Status s) {
      if (!s.ok()) return done(s);
      // Since it was chosen, the server may have been deleted (its fleet with it), shut
      // itself down, or failed: the session then ended with it, and its id is free for
      // the retry.
      const GameServer* now_gs = world_.FindServer(name);
      if (!now_gs ||
          (world_.FindSession(session) != now_gs && !(joined && StillJoined(*now_gs, *joined))))
        return done(Status(core::Code::kAborted, "game server " + name + " " + EndedHow(now_gs) +
                                                     " as it was being allocated; retry"));
      done(AllocationResult{*now_gs, session, false});
    });
  });
}

// A repeated sessionId, once what it rests on is durable. The session's server again; or,
// if the session ended meanwhile (its server shut down, failed or went), a fresh
// allocation, as a repeat after its end gets.
void Controller::Replay(core::AllocationRequest req, Callback<AllocationResult> done) {
  const GameServer* gs = world_.FindSession(req.session_id);
  if (!gs) return Allocate(std::move(req), std::move(done));
  // The session names one server; a repeat that asks another fleet (or build) for it is a
  // mistake to point out, not a reason to answer with the wrong game.
  if (!req.fleet.empty() && gs->fleet != req.fleet)
    return done(Status(core::Code::kAborted,
                       "session " + req.session_id + " is on game server " + gs->meta.name +
                           (gs->fleet.empty() ? " (no fleet)" : " of fleet " + gs->fleet) +
                           ", not of fleet " + req.fleet,
                       req.build_id.empty() ? "sessionId" : "sessionID"));
  done(AllocationResult{*gs, req.session_id, true});
}

void Controller::ExpireReservations() {
  const core::TimeMs now = clock_.Now(), mono = clock_.MonotonicMs();
  std::vector<std::string> expired;
  for (const auto& name : world_.reserved_with_deadline()) {
    const GameServer* gs = world_.FindServer(name);
    if (!gs || gs->meta.deletion_ms != 0) continue;
    ReservationEnd& end = world_.Live(name).reservation;
    if (end.stored != gs->status.reserved_until_ms)  // set before this start, or reloaded
      end = {gs->status.reserved_until_ms,
             mono + std::max<core::TimeMs>(0, gs->status.reserved_until_ms - now)};
    if (mono >= end.monotonic_ms) expired.push_back(name);
  }
  for (const auto& name : expired) {
    GameServer next = *world_.FindServer(name);
    next.status.reserved_until_ms = 0;
    SetState(std::move(next), GameServerState::kReady, "ReservationExpired", "");
  }
}

void Controller::StartExternal(GameServer gs) {
  const std::string name = gs.meta.name;
  if (!gs.external_sdk) {  // runs where our loopback SDK ports cannot be reached
    gs.status.state = GameServerState::kStarting;
    return SetState(std::move(gs), GameServerState::kReady, "Registered", "runs outside Muster");
  }
  auto tcp_probe = [&](int candidate) { return probe_(candidate, core::Protocol::kTCP); };
  auto grpc = sdk_ports_.Allocate(name, tcp_probe);
  auto http = grpc ? sdk_ports_.Allocate(name, tcp_probe) : std::nullopt;
  if (!grpc || !http) {
    sdk_ports_.ReleaseAll(name);
    return SetState(std::move(gs), GameServerState::kError, "PortsExhausted",
                    "no free SDK port pair");
  }
  gs.status.sdk_grpc_port = *grpc;
  gs.status.sdk_http_port = *http;
  if (sdk_) {
    if (auto opened = sdk_->Open(gs, world_.FindFleet(gs.fleet)); !opened.ok()) {
      sdk_ports_.ReleaseAll(name);
      return SetState(std::move(gs), GameServerState::kError, "SdkPortUnavailable",
                      opened.status().message());
    }
  }
  world_.Live(name).started_ms = clock_.MonotonicMs();
  // It is running already: Creating -> Starting -> Ready, in one commit.
  gs.status.state = GameServerState::kStarting;
  SetState(std::move(gs), GameServerState::kReady, "Registered", "runs outside Muster");
}

void Controller::CreateToken(core::ApiToken token, Callback<core::ApiToken> done) {
  boost::asio::post(owner_, [this, token = std::move(token), done = std::move(done)]() mutable {
    if (tokens_.count(token.name))
      return done(
          Status(core::Code::kAlreadyExists, "a token named " + token.name + " exists", "name"));
    token.created_ms = clock_.Now();
    tokens_[token.name] = token;
    Stage(Change::Put(token), [this, token, done](Status s) {
      if (!s.ok()) {
        // Only its own entry: a revocation failing in the same batch may have put the
        // old token of this name back, and that one still holds.
        if (auto it = tokens_.find(token.name); it != tokens_.end() && it->second == token)
          tokens_.erase(it);
        return done(s);
      }
      if (options_.tokens) options_.tokens->Put(token);  // usable once durable
      done(token);
    });
  });
}

void Controller::ListTokens(Callback<std::vector<core::ApiToken>> done) {
  boost::asio::post(owner_, [this, done = std::move(done)] {
    std::vector<core::ApiToken> out;
    for (const auto& [name, t] : tokens_) out.push_back(t);
    done(std::move(out));
  });
}

void Controller::RevokeToken(std::string name, Callback<core::ApiToken> done) {
  boost::asio::post(owner_, [this, name = std::move(name), done = std::move(done)] {
    auto it = tokens_.find(name);
    if (it == tokens_.end()) return done(core::NotFound("no token named " + name));
    core::ApiToken gone = it->second;
    tokens_.erase(it);
    if (options_.tokens) options_.tokens->EraseByName(name);  // refused from now on
    Stage(Change::Delete(store::Kind::kToken, name, 1), [this, done, gone](Status s) {
      if (!s.ok()) {  // still stored, so it holds again, as it would after a restart
        tokens_[gone.name] = gone;
        if (options_.tokens) options_.tokens->Put(gone);
        return done(s);
      }
      done(gone);
    });
  });
}

}  // namespace muster::control
