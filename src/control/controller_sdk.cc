// Controller: what game-server SDKs ask for, on behalf of one named server. Every
// SDK family (sdk/) comes through here: state transitions, edits of labels,
// players, counters and lists, health pings, and watches.
#include <boost/asio/post.hpp>

#include "codec/json_codec.h"
#include "control/controller.h"

namespace muster::control {

using core::GameServer;
using core::GameServerState;
using core::Status;

namespace {

std::string Verb(GameServerState to) {
  switch (to) {
    case GameServerState::kReady: return "mark ready";
    case GameServerState::kReserved: return "reserve";
    case GameServerState::kAllocated: return "allocate";
    case GameServerState::kShutdown: return "shut down";
    default: return std::string("move to ") + core::StateName(to);
  }
}

}  // namespace

// Refusals, in order: unknown server; being deleted; Unhealthy or Error (nothing an SDK
// call does leaves them); a transition the state machine does not allow.
void Controller::SdkTransition(std::string name, GameServerState to, std::string reason,
                               std::string message, std::function<void(GameServer&)> prepare,
                               Callback<GameServer> done) {
  boost::asio::post(owner_, [this, name = std::move(name), to, reason = std::move(reason),
                             message = std::move(message), prepare = std::move(prepare),
                             done = std::move(done)]() mutable {
    const GameServer* gs = world_.FindServer(name);
    if (!gs) return done(core::NotFound("game server " + name + " not found"));
    const GameServerState from = gs->status.state;
    if (core::IsTerminating(*gs)) return done(core::FailedPrecondition(name + " is shutting down"));
    if (from == GameServerState::kUnhealthy || from == GameServerState::kError)
      return done(core::FailedPrecondition(name + " is " + core::StateName(from) +
                                           "; nothing leaves that state"));
    if (from != to && !core::CanTransition(from, to))
      return done(core::FailedPrecondition("cannot " + Verb(to) + " a game server that is " +
                                           core::StateName(from)));
    GameServer next = *gs;
    if (prepare) prepare(next);
    if (from == to && next == *gs) return AfterDurable(Answer<GameServer>(done, *gs));
    // A server with no process to stop (registered, running elsewhere) may be gone by
    // the time its Shutdown is durable: that is the Shutdown done, answered as it was.
    std::optional<GameServer> shut;
    if (to == GameServerState::kShutdown) {
      shut = next;
      shut->status.state = to;
    }
    auto answer = [this, name, shut = std::move(shut), done = std::move(done)](Status s) {
      if (!s.ok()) return done(s);
      const GameServer* now = world_.FindServer(name);
      if (!now && shut) return done(*shut);
      if (!now) return done(core::NotFound("game server " + name + " not found"));
      done(*now);
    };
    if (from == to) return StageServer(std::move(next), std::move(answer));
    SetState(std::move(next), to, std::move(reason), std::move(message), std::move(answer));
  });
}

void Controller::SdkReady(std::string name, Callback<GameServer> done) {
  SdkTransition(
      std::move(name), GameServerState::kReady, "", "",
      [](GameServer& gs) {
        gs.status.allocation.reset();  // Allocated -> Ready: the session is over; reuse
        gs.status.reserved_until_ms = 0;
      },
      std::move(done));
}

void Controller::SdkAllocate(std::string name, Callback<GameServer> done) {
  const core::TimeMs now = clock_.Now();
  SdkTransition(
      std::move(name), GameServerState::kAllocated, "SdkAllocate", "allocated itself",
      [now](GameServer& gs) {
        gs.meta.annotations[core::kLastAllocatedAnnotation] = codec::FormatTime(now);
        gs.status.reserved_until_ms = 0;
      },
      std::move(done));
}

void Controller::SdkReserve(std::string name, int64_t seconds, Callback<GameServer> done) {
  constexpr int64_t kMaxReserveSeconds = 366LL * 24 * 3600;  // a deadline, not an overflow
  if (seconds > kMaxReserveSeconds)
    return done(core::InvalidArgument(
        "at most " + std::to_string(kMaxReserveSeconds) + " (a year); 0 reserves until told",
        "seconds"));
  const core::TimeMs until = seconds > 0 ? clock_.Now() + seconds * 1000 : 0;
  const core::TimeMs until_monotonic = clock_.MonotonicMs() + seconds * 1000;
  SdkTransition(
      std::move(name), GameServerState::kReserved, "SdkReserve",
      seconds > 0 ? "reserved for " + std::to_string(seconds) + " s" : "reserved until told",
      [this, until, until_monotonic](GameServer& gs) {
        gs.status.reserved_until_ms = until;
        // Safe even if this reservation never lands (refused, or its write fails): the
        // entry is keyed by `until`, and a stored end that differs is derived afresh.
        world_.Live(gs.meta.name).reservation = {until, until_monotonic};
      },
      std::move(done));
}

void Controller::SdkShutdown(std::string name, Callback<GameServer> done) {
  SdkTransition(
      std::move(name), GameServerState::kShutdown, "SdkShutdown",
      "the game server asked to shut down", [](GameServer& gs) { gs.status.reserved_until_ms = 0; },
      std::move(done));
}

void Controller::SdkUnhealthy(std::string name, std::string message, Callback<GameServer> done) {
  SdkTransition(std::move(name), GameServerState::kUnhealthy, "GameReportedUnhealthy",
                std::move(message), nullptr, std::move(done));
}

void Controller::SdkHealth(std::string name, Callback<bool> done) {
  boost::asio::post(owner_, [this, name = std::move(name), done = std::move(done)] {
    if (!world_.FindServer(name)) return done(core::NotFound("game server " + name + " not found"));
    world_.Live(name).ping->store(clock_.MonotonicMs());
    done(true);
  });
}

void Controller::SdkEdit(std::string name, ServerEdit edit, Callback<Edited> done) {
  boost::asio::post(owner_,
                    [this, name = std::move(name), edit = std::move(edit), done = std::move(done)] {
                      const GameServer* gs = world_.FindServer(name);
                      if (!gs) return done(core::NotFound("game server " + name + " not found"));
                      GameServer next = *gs;
                      core::StatusOr<bool> changed = edit(next);
                      if (!changed.ok()) return done(changed.status());
                      if (!*changed || next == *gs)
                        return AfterDurable(Answer<Edited>(done, Edited{*gs, false}));
                      StageServer(std::move(next), [this, name, done](Status s) {
                        if (!s.ok()) return done(s);
                        const GameServer* now = world_.FindServer(name);
                        if (!now) return done(core::NotFound("game server " + name + " not found"));
                        done(Edited{*now, true});
                      });
                    });
}

PingSlot Controller::PingSlotOf(const std::string& name) { return world_.Live(name).ping; }

uint64_t Controller::WatchServer(std::string name, ServerWatch on_change) {
  const uint64_t id = next_watch_id_.fetch_add(1) + 1;
  boost::asio::post(owner_, [this, id, name = std::move(name), on_change = std::move(on_change)] {
    const GameServer* gs = world_.FindServer(name);
    on_change(gs);  // the current server at once; nullptr = there is none
    if (gs) watches_[name].emplace(id, std::move(on_change));
  });
  return id;
}

void Controller::Unwatch(uint64_t id) {
  boost::asio::post(owner_, [this, id] {
    for (auto it = watches_.begin(); it != watches_.end(); ++it) {
      if (it->second.erase(id) == 0) continue;
      if (it->second.empty()) watches_.erase(it);
      return;
    }
  });
}

void Controller::NotifyWatches(const std::string& name) {
  auto it = watches_.find(name);
  if (it == watches_.end()) return;
  const GameServer* gs = world_.FindServer(name);
  for (auto& [id, fn] : it->second) fn(gs);
  if (!gs) watches_.erase(it);  // gone: every watch of it ends
}

}  // namespace muster::control
