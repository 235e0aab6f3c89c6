// Controller's public operations: each posts to the owner thread, acts on the World,
// and answers once its write is durable.
#include <boost/asio/post.hpp>

#include "control/controller.h"

namespace muster::control {

using core::Fleet;
using core::GameServer;
using core::GameServerState;
using core::Status;

namespace {

Status Stale(const std::string& what, uint64_t given, uint64_t current) {
  return Status(core::Code::kAborted,
                what + " has resourceVersion " + std::to_string(current) + ", not " +
                    std::to_string(given) + "; read it again and retry",
                "metadata.resourceVersion");
}

}  // namespace

const char* ApplyOutcomeName(ApplyOutcome o) {
  switch (o) {
    case ApplyOutcome::kCreated: return "created";
    case ApplyOutcome::kConfigured: return "configured";
    case ApplyOutcome::kUnchanged: return "unchanged";
  }
  return "";
}

void Controller::ApplyFleet(Fleet desired, Callback<Applied<Fleet>> done) {
  boost::asio::post(owner_, [this, desired = std::move(desired), done = std::move(done)]() mutable {
    const std::string name = desired.meta.name;
    const Fleet* current = world_.FindFleet(name);
    if (desired.meta.version != 0 && (!current || current->meta.version != desired.meta.version))
      return done(
          Stale("fleet " + name, desired.meta.version, current ? current->meta.version : 0));
    // The Thundernetes door finds a fleet by its buildID: two fleets may not share one.
    if (!desired.spec.build_id.empty())
      for (const auto& [other, f] : world_.fleets())
        if (other != name && core::SameUuid(f.spec.build_id, desired.spec.build_id))
          return done(core::Status(core::Code::kAlreadyExists,
                                   "buildID " + desired.spec.build_id + " is fleet " + other +
                                       "'s already; each fleet needs a buildID of its own",
                                   "spec.buildID"));
    Fleet next;
    if (current) {
      next = *current;
      next.meta.labels = desired.meta.labels;
      next.meta.annotations = desired.meta.annotations;
      next.spec = desired.spec;
      if (next == *current)
        return AfterDurable(
            Answer<Applied<Fleet>>(std::move(done), {*current, ApplyOutcome::kUnchanged}));
    } else {
      next = std::move(desired);
      next.meta.version = 0;
      next.meta.created_ms = clock_.Now();
      next.status = {};
    }
    const ApplyOutcome outcome = current ? ApplyOutcome::kConfigured : ApplyOutcome::kCreated;
    StageFleet(std::move(next));
    waiters_.push_back(Answer<Applied<Fleet>>(std::move(done), {*world_.FindFleet(name), outcome}));
  });
}

void Controller::ScaleFleet(std::string name, int replicas, Callback<Fleet> done) {
  boost::asio::post(owner_, [this, name = std::move(name), replicas, done = std::move(done)] {
    const Fleet* current = world_.FindFleet(name);
    if (!current) return done(core::NotFound("fleet " + name + " not found"));
    if (replicas < 0) return done(core::InvalidArgument("must not be negative", "replicas"));
    if (current->spec.replicas == replicas) return AfterDurable(Answer<Fleet>(done, *current));
    Fleet next = *current;
    next.spec.replicas = replicas;
    StageFleet(std::move(next));
    waiters_.push_back(Answer<Fleet>(done, *world_.FindFleet(name)));
  });
}

void Controller::DeleteFleet(std::string name, Callback<Fleet> done) {
  boost::asio::post(owner_, [this, name = std::move(name), done = std::move(done)] {
    const Fleet* current = world_.FindFleet(name);
    if (!current) return done(core::NotFound("fleet " + name + " not found"));
    Fleet gone = *current;
    const core::TimeMs now = clock_.Now();
    for (const GameServer* gs : world_.ServersOf(name)) {
      if (gs->meta.deletion_ms != 0) continue;
      GameServer next = *gs;
      next.meta.deletion_ms = now;
      StageServer(std::move(next));
    }
    world_.EraseFleet(name);
    Stage(store::Change::Delete(store::Kind::kFleet, name, gone.meta.version));
    waiters_.push_back(Answer<Fleet>(done, std::move(gone)));
  });
}

void Controller::GetFleet(std::string name, Callback<Fleet> done) {
  boost::asio::post(owner_, [this, name = std::move(name), done = std::move(done)] {
    const Fleet* f = world_.FindFleet(name);
    if (!f) return done(core::NotFound("fleet " + name + " not found"));
    done(*f);
  });
}

void Controller::ListFleets(Callback<std::vector<Fleet>> done) {
  boost::asio::post(owner_, [this, done = std::move(done)] {
    std::vector<Fleet> out;
    for (const auto& [name, f] : world_.fleets()) out.push_back(f);
    done(std::move(out));
  });
}

void Controller::ApplyGameServer(GameServer desired, Callback<Applied<GameServer>> done) {
  boost::asio::post(owner_, [this, desired = std::move(desired), done = std::move(done)]() mutable {
    const std::string name = desired.meta.name;
    const GameServer* current = world_.FindServer(name);
    if (desired.meta.version != 0 && (!current || current->meta.version != desired.meta.version))
      return done(
          Stale("game server " + name, desired.meta.version, current ? current->meta.version : 0));
    if (current) {
      if (!current->fleet.empty() && !current->external)
        return done(core::FailedPrecondition("game server " + name + " belongs to fleet " +
                                             current->fleet + "; change the fleet instead"));
      if (current->external && desired.fleet != current->fleet)
        return done(core::Status(core::Code::kFailedPrecondition,
                                 "the fleet of a registered game server cannot change; delete " +
                                     name + " and register it again",
                                 "spec.fleet"));
      if (current->spec != desired.spec)
        return done(
            core::FailedPrecondition("the spec of an existing game server cannot change; "
                                     "delete " +
                                     name + " and apply it again"));
      if (current->external != desired.external || current->external_sdk != desired.external_sdk ||
          (desired.external && (current->status.address != desired.status.address ||
                                current->status.ports != desired.status.ports)))
        return done(core::Status(core::Code::kFailedPrecondition,
                                 "where an existing game server runs cannot change; delete " +
                                     name + " and register it again",
                                 "spec.external"));
      GameServer next = *current;
      next.meta.labels = desired.meta.labels;
      next.meta.annotations = desired.meta.annotations;
      // A registered member stands in for one of the fleet's own servers: it carries
      // what they carry (a matchmaker selecting them by label finds it too).
      if (const Fleet* fleet = next.fleet.empty() ? nullptr : world_.FindFleet(next.fleet))
        core::AddFleetMeta(*fleet, next.meta);
      if (next == *current)
        return AfterDurable(
            Answer<Applied<GameServer>>(std::move(done), {*current, ApplyOutcome::kUnchanged}));
      StageServer(std::move(next));
    } else {
      GameServer next = std::move(desired);
      next.meta.version = 0;
      next.meta.created_ms = clock_.Now();
      core::GameServerStatus registered;  // a registered server brings its address and ports
      if (next.external) {
        registered.address = next.status.address;
        registered.ports = next.status.ports;
        if (!next.fleet.empty()) {
          const Fleet* fleet = world_.FindFleet(next.fleet);
          if (!fleet)
            return done(core::Status(core::Code::kNotFound, "fleet " + next.fleet + " not found",
                                     "spec.fleet"));
          if (!core::RegisteredWouldStay(*fleet, world_.ServersOf(next.fleet), next, clock_.Now()))
            return done(core::Status(
                core::Code::kFailedPrecondition,
                "fleet " + next.fleet + " (" + std::to_string(fleet->spec.replicas) +
                    " replicas) has no server Muster started that it could stop to make room "
                    "(none, or all Allocated or Reserved): it would remove " +
                    name + " at once. Scale the fleet up, then register again",
                "spec.fleet"));
          core::AddFleetMeta(*fleet, next.meta);
        }
      } else {
        next.fleet.clear();
      }
      next.status = registered;
      next.status.state_since_ms = next.meta.created_ms;
      core::InitStatusFromSpec(next);
      StageServer(std::move(next));
    }
    waiters_.push_back(Answer<Applied<GameServer>>(
        std::move(done),
        {*world_.FindServer(name), current ? ApplyOutcome::kConfigured : ApplyOutcome::kCreated}));
  });
}

void Controller::DeleteGameServer(std::string name, Callback<GameServer> done) {
  boost::asio::post(owner_, [this, name = std::move(name), done = std::move(done)] {
    const GameServer* current = world_.FindServer(name);
    if (!current) return done(core::NotFound("game server " + name + " not found"));
    if (current->meta.deletion_ms != 0) return AfterDurable(Answer<GameServer>(done, *current));
    GameServer next = *current;
    next.meta.deletion_ms = clock_.Now();
    StageServer(std::move(next));
    waiters_.push_back(Answer<GameServer>(done, *world_.FindServer(name)));
  });
}

void Controller::GetGameServer(std::string name, Callback<GameServer> done) {
  boost::asio::post(owner_, [this, name = std::move(name), done = std::move(done)] {
    const GameServer* gs = world_.FindServer(name);
    if (!gs) return done(core::NotFound("game server " + name + " not found"));
    done(*gs);
  });
}

void Controller::ListGameServers(std::string fleet, std::string after, size_t limit,
                                 Callback<ServerPage> done) {
  boost::asio::post(owner_, [this, fleet = std::move(fleet), after = std::move(after), limit,
                             done = std::move(done)] {
    ServerPage page;
    auto take = [&](const auto& by_name, auto server) {
      auto it = after.empty() ? by_name.begin() : by_name.upper_bound(after);
      for (; it != by_name.end() && page.servers.size() < limit; ++it)
        page.servers.push_back(server(it->second));
      page.more = it != by_name.end();
    };
    if (fleet.empty()) {
      take(world_.servers(), [](const GameServer& gs) { return gs; });
    } else if (const auto* members = world_.MembersOf(fleet)) {
      take(*members, [](const GameServer* gs) { return *gs; });
    }
    done(std::move(page));
  });
}

std::string Controller::ReadLogs(const std::string& name, uint64_t max_bytes) const {
  return runtime_.ReadLogs(name, max_bytes);
}

// ---------------------------------------------------------------- nodes

void Controller::ListNodes(Callback<std::vector<core::Node>> done) {
  boost::asio::post(owner_, [this, done = std::move(done)] { done(std::vector{options_.node}); });
}

void Controller::GetNode(std::string name, Callback<core::Node> done) {
  boost::asio::post(owner_, [this, name = std::move(name), done = std::move(done)] {
    if (name != options_.node.name) return done(core::NotFound("node " + name + " not found"));
    done(options_.node);
  });
}

void Controller::SetNodeMaintenance(std::string name, core::TimeMs at, Callback<core::Node> done) {
  boost::asio::post(owner_, [this, name = std::move(name), at, done = std::move(done)] {
    if (name != options_.node.name) return done(core::NotFound("node " + name + " not found"));
    if (options_.node.maintenance_ms == at)
      return AfterDurable(Answer<core::Node>(done, options_.node));
    options_.node.maintenance_ms = at;
    Stage(store::Change::Put(options_.node, node_version_++),
          Answer<core::Node>(std::move(done), options_.node));
  });
}

void Controller::StopAllProcesses(std::function<void()> done) {
  boost::asio::post(owner_, [this, done = std::move(done)]() mutable {
    stopping_all_ = true;
    all_stopped_ = std::move(done);
    bool any = false;
    for (const auto& [name, gs] : world_.servers()) {
      if (!runtime_.IsRunning(name)) continue;
      any = true;
      runtime_.Stop(name, std::chrono::seconds(gs.spec->termination_grace_s));
    }
    if (!any) std::exchange(all_stopped_, nullptr)();
  });
}

}  // namespace muster::control
