#include "control/controller.h"

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include "core/health.h"

namespace muster::control {

using core::GameServer;
using core::GameServerState;
using core::Status;
using store::Change;

template <typename F>
void Controller::OnOwner(F&& f) {
  boost::asio::post(owner_, std::forward<F>(f));
}

Controller::Controller(boost::asio::io_context& owner, boost::asio::io_context& syncer,
                       store::Store& store, runtime::Runtime& runtime, const core::Clock& clock,
                       PortProbe probe, ControllerOptions options)
    : owner_(owner),
      syncer_(syncer),
      store_(store),
      runtime_(runtime),
      clock_(clock),
      probe_(std::move(probe)),
      options_(std::move(options)),
      game_ports_(options_.game_ports),
      sdk_ports_(options_.sdk_ports),
      health_timer_(owner),
      fleet_timer_(owner),
      rng_(std::random_device{}()) {}

Controller::~Controller() {
  health_timer_.cancel();
  fleet_timer_.cancel();
  for (auto& [name, timer] : requeue_timers_) timer->cancel();
}

// ---------------------------------------------------------------- start-up

void Controller::ClaimPorts(const GameServer& gs) {
  for (const auto& p : gs.status.ports)
    if (p.port) (void)game_ports_.Claim(p.port, gs.meta.name);
  for (int p : {gs.status.sdk_grpc_port, gs.status.sdk_http_port})
    if (p) (void)sdk_ports_.Claim(p, gs.meta.name);
}

Status Controller::Start(SdkEndpoints* sdk) {
  sdk_ = sdk;
  auto snap = store_.Load();
  if (!snap.ok()) return snap.status();
  for (const auto& row : snap->unreadable)
    spdlog::error("the store holds a row Muster cannot read, left untouched and not managed: {}",
                  row);
  for (auto& f : snap->fleets) world_.PutFleet(std::move(f));
  int adopted = 0, gone = 0;
  for (auto& gs : snap->gameservers) {
    ClaimPorts(gs);
    std::string name = gs.meta.name;
    if (gs.status.pid != 0) {
      (runtime_.Adopt(name, {gs.status.pid, gs.status.process_start_ticks}) ? adopted : gone)++;
    }
    world_.Live(name).started_ms = clock_.MonotonicMs();
    if (gs.status.sdk_http_port != 0 && sdk_) {
      if (auto opened = sdk_->Open(gs, world_.FindFleet(gs.fleet)); !opened.ok())
        spdlog::warn("game server {}: cannot reopen its SDK port: {}", name,
                     opened.status().message());
    }
    world_.PutServer(std::move(gs));
    dirty_servers_.insert(name);
  }
  // Before any start: a process started just before a crash, whose pid never reached
  // the disk, is found and killed, not left holding ports and calling the SDK.
  for (const std::string& line : runtime_.KillStrays()) spdlog::warn("{}", line);
  for (const auto& [name, f] : world_.fleets()) dirty_fleets_.insert(name);
  if (!snap->gameservers.empty() || !snap->fleets.empty())
    spdlog::info(
        "recovered {} fleets and {} game servers; re-adopted {} running processes, {} gone",
        world_.fleets().size(), world_.servers().size(), adopted, gone);

  if (!AdoptStoredNode(*snap)) Stage(Change::Put(options_.node, node_version_++));

  for (auto& t : snap->tokens) {
    if (options_.tokens) options_.tokens->Put(t);
    tokens_[t.name] = std::move(t);
  }
  runtime_.SetExitHandler([this](const runtime::ExitEvent& ev) { OnProcessExit(ev); });
  ScheduleReconcile();
  SweepHealth();
  return core::OkStatus();
}

// ---------------------------------------------------------------- commit path

void Controller::Stage(Change change, Done on_durable) {
  staged_.push_back(std::move(change));
  if (on_durable) waiters_.push_back(std::move(on_durable));
  ScheduleFlush();
}

void Controller::ScheduleFlush() {
  if (flush_scheduled_ || write_failed_) return;  // OnCommitDone starts the next one
  flush_scheduled_ = true;
  OnOwner([this] { Flush(); });
}

void Controller::StageServer(GameServer gs, Done on_durable) {
  Change change = Change::Put(gs);
  gs.meta.version += 1;  // what the store will assign; later writes in this batch build on it
  world_.PutServer(std::move(gs));
  Stage(std::move(change), std::move(on_durable));
}

void Controller::StageFleet(core::Fleet fleet, Done on_durable) {
  Change change = Change::Put(fleet);
  fleet.meta.version += 1;
  world_.PutFleet(std::move(fleet));
  Stage(std::move(change), std::move(on_durable));
}

// Group commit, pipelined: everything staged since the last commit is written here, on
// the owner thread, as one transaction, and handed to the syncer; this thread goes on
// serving and staging the next batch, which it writes while the syncer flushes this one.
// Writing here rather than on a thread of its own saves two hand-offs a batch, each a
// wait for a CPU (docs/benchmarks.md, "The owner thread writes its own batches").
void Controller::Flush() {
  flush_scheduled_ = false;
  if (write_failed_ || (staged_.empty() && waiters_.empty())) return;
  ++unsynced_batches_;
  auto batch = std::make_shared<Batch>();
  batch->changes.swap(staged_);
  batch->waiters.swap(waiters_);
  batch->started = std::chrono::steady_clock::now();
  batch->status = store_.Commit(batch->changes);
  batch->took = std::chrono::steady_clock::now() - batch->started;
  batch->seq = written_seq_.load(std::memory_order_relaxed) + 1;
  written_seq_.store(batch->seq, std::memory_order_release);
  if (batch->status.ok()) {
    batch->touched.reserve(batch->changes.size());
    for (const Change& c : batch->changes) {
      const auto* gs = std::get_if<GameServer>(&c.object);
      batch->touched.push_back({c.kind, c.name, gs ? gs->fleet : std::string()});
    }
  } else {
    write_failed_ = true;  // what is staged next builds on this batch: OnCommitDone decides
  }
  boost::asio::post(syncer_, [this, batch] { SyncAndFinish(batch); });
}

// One flush covers every batch written before it began: a batch that an earlier flush
// covered needs none. Batches pass through here in order, so they complete in order.
void Controller::SyncAndFinish(std::shared_ptr<Batch> batch) {
  if (batch->status.ok() && synced_seq_ < batch->seq) {
    const uint64_t covered = written_seq_.load(std::memory_order_acquire);
    auto t0 = std::chrono::steady_clock::now();
    core::Status s = store_.Sync();
    batch->sync_took = std::chrono::steady_clock::now() - t0;
    if (s.ok()) {
      synced_seq_ = covered;
    } else {
      batch->status = s;
      batch->sync_failed = true;
    }
  }
  OnOwner([this, batch] { OnCommitDone(*batch); });
}

void Controller::OnCommitDone(Batch& batch) {
  --unsynced_batches_;
  auto& st = commit_stats_;
  ++st.commits;
  st.changes += static_cast<long>(batch.changes.size());
  st.busy += batch.took;
  st.syncing += batch.sync_took;
  auto now = std::chrono::steady_clock::now();
  if (now - st.since > std::chrono::seconds(5) && spdlog::should_log(spdlog::level::debug)) {
    double secs = std::chrono::duration<double>(now - st.since).count();
    auto ms = [&](auto d) { return std::chrono::duration<double, std::milli>(d).count(); };
    spdlog::debug(
        "commits: {:.0f}/s, {:.1f} changes each, {:.2f} ms each writing, {:.2f} ms syncing; last "
        "round trip {:.2f} ms",
        st.commits / secs, double(st.changes) / st.commits, ms(st.busy) / st.commits,
        ms(st.syncing) / st.commits, ms(now - batch.started));
    st = CommitStats{};
  }
  if (batch.sync_failed) {
    // Linux may have dropped the pages it could not write: what the World holds can no
    // longer be trusted to match the disk. Stop; a restart recovers what is on disk.
    spdlog::critical("{}; stopping: the next start recovers what reached the disk",
                     batch.status.message());
    std::abort();
  }
  if (!batch.status.ok()) {
    spdlog::error("commit of {} changes failed: {}; reloading state from the store",
                  batch.changes.size(), batch.status.message());
    // What was staged since built on the failed batch: it fails too.
    std::vector<Done> later;
    later.swap(waiters_);
    staged_.clear();
    for (auto& w : later) batch.waiters.push_back(std::move(w));
    write_failed_ = false;
    Reload();
  } else {
    OnCommitted(batch.touched);
  }
  for (auto& w : batch.waiters) w(batch.status);
  if (!staged_.empty() || !waiters_.empty()) ScheduleFlush();  // what the waiters staged
}

bool Controller::AdoptStoredNode(const store::Snapshot& snap) {
  node_version_ = 0;
  options_.node.maintenance_ms = 0;
  bool current = false;
  for (size_t i = 0; i < snap.nodes.size(); ++i) {
    if (snap.nodes[i].name != options_.node.name) continue;
    node_version_ = snap.node_versions[i];
    options_.node.maintenance_ms = snap.nodes[i].maintenance_ms;  // a planned time survives
    current = snap.nodes[i] == options_.node;
  }
  return current;
}

void Controller::Reload() {
  auto snap = store_.Load();
  if (!snap.ok()) {
    spdlog::critical("cannot reload the store: {}", snap.status().message());
    return;
  }
  world_.Clear();
  game_ports_ = core::PortRegistry(options_.game_ports);
  sdk_ports_ = core::PortRegistry(options_.sdk_ports);
  for (auto& f : snap->fleets) {
    dirty_fleets_.insert(f.meta.name);
    world_.PutFleet(std::move(f));
  }
  for (auto& gs : snap->gameservers) {
    ClaimPorts(gs);
    dirty_servers_.insert(gs.meta.name);
    world_.Live(gs.meta.name).started_ms = clock_.MonotonicMs();
    world_.PutServer(std::move(gs));
  }
  world_.DropLiveOfUnknownServers();
  // A node write that failed is forgotten, its version with it; facts that differ from
  // the stored copy are written again.
  if (!AdoptStoredNode(*snap)) Stage(Change::Put(options_.node, node_version_++));
  ScheduleReconcile();
}

void Controller::OnCommitted(const std::vector<Touched>& committed) {
  for (const Touched& t : committed) {
    if (t.kind == store::Kind::kFleet) {
      dirty_fleets_.insert(t.name);
    } else if (t.kind == store::Kind::kGameServer) {
      dirty_servers_.insert(t.name);
      if (!t.fleet.empty()) dirty_fleets_.insert(t.fleet);
      NotifyWatches(t.name);
    }
  }
  ScheduleReconcile();
}

// ---------------------------------------------------------------- reconcile

void Controller::ScheduleReconcile() {
  if (!reconcile_scheduled_ && (!dirty_servers_.empty() || !waiting_starts_.empty())) {
    reconcile_scheduled_ = true;
    OnOwner([this] { ReconcileDirty(); });
  }
  // Fleets are reconciled a moment later, so that a burst of commits (allocations
  // under load) costs one pass over each fleet, not one per commit.
  if (!fleet_reconcile_scheduled_ && !dirty_fleets_.empty()) {
    fleet_reconcile_scheduled_ = true;
    fleet_timer_.expires_after(options_.fleet_coalesce);
    fleet_timer_.async_wait([this](const boost::system::error_code& ec) {
      fleet_reconcile_scheduled_ = false;
      if (!ec) ReconcileDirtyFleets();
    });
  }
}

void Controller::ReconcileDirty() {
  reconcile_scheduled_ = false;
  if (stopping_all_) return;
  // A start (ports, SDK endpoints, GSDK files, posix_spawn) takes 0.5-3 ms; a
  // 1,000-server scale-up in one pass held every allocation for seconds
  // (docs/benchmarks.md, "Allocations during a scale-up"). So a pass makes at most
  // kStartsPerPass starts: the oldest waiting first, then those of servers dirty since.
  // Everything else a pass does at once, for every dirty server.
  int starts = 0;
  for (size_t n = waiting_starts_.size(); n > 0 && starts < kStartsPerPass; --n) {
    std::string name = std::move(waiting_starts_.front());
    waiting_starts_.pop_front();
    ReconcileServer(name, starts);
  }
  std::set<std::string> servers;
  servers.swap(dirty_servers_);
  for (const auto& name : servers) ReconcileServer(name, starts);
  ScheduleReconcile();  // the starts left waiting, behind what has queued up meanwhile
}

void Controller::ReconcileDirtyFleets() {
  if (stopping_all_) return;
  std::set<std::string> fleets;
  fleets.swap(dirty_fleets_);
  for (const auto& name : fleets) ReconcileFleet(name);
}

void Controller::ReconcileServer(const std::string& name, int& starts) {
  const GameServer* gs = world_.FindServer(name);
  if (!gs) return;
  const LiveState& live = world_.Live(name);
  core::ServerObservation seen;
  seen.process_running = runtime_.IsRunning(name);
  seen.health_deadline_passed =
      core::HealthDeadlinePassed(*gs, live.started_ms, live.last_ping_ms(), clock_.MonotonicMs());
  switch (core::ReconcileServer(*gs, seen)) {
    case core::ServerAction::kNone: break;
    case core::ServerAction::kAssignPortsAndStart:
      // A registered server without SDK endpoints only becomes Ready: that is not a start.
      if (!gs->external || gs->external_sdk) {
        if (starts >= kStartsPerPass) {
          waiting_starts_.push_back(name);  // a later pass; reconciled afresh then
          break;
        }
        ++starts;
      }
      AssignAndStart(*gs);
      break;
    case core::ServerAction::kStop:
      runtime_.Stop(name, std::chrono::seconds(gs->spec->termination_grace_s));
      break;
    case core::ServerAction::kFinalize: Finalize(*gs); break;
    case core::ServerAction::kMarkExited:
      SetState(*gs, GameServerState::kUnhealthy, "ProcessExited",
               "the process is gone (it exited while Muster was not watching)");
      break;
    case core::ServerAction::kMarkUnhealthy: {
      const auto& h = gs->spec->health;
      SetState(*gs, GameServerState::kUnhealthy, "HealthCheckFailed",
               "no health ping for " + std::to_string(h.period_s * h.failure_threshold) + " s (" +
                   std::to_string(h.failure_threshold) + " periods of " +
                   std::to_string(h.period_s) + " s)");
      break;
    }
  }
}

void Controller::ReconcileFleet(const std::string& name) {
  const core::Fleet* fleet = world_.FindFleet(name);
  if (!fleet) return;
  const core::TimeMs now = clock_.Now();
  core::FleetPlan plan = core::ReconcileFleet(*fleet, world_.ServersOf(name), now);
  for (const auto& victim : plan.replace) {
    GameServer gs = *world_.FindServer(victim);
    gs.meta.deletion_ms = now;
    StageServer(std::move(gs));
  }
  for (const auto& victim : plan.scale_down)
    SetState(*world_.FindServer(victim), GameServerState::kShutdown, "ScaledDown",
             "fleet scaled down");
  fleet = world_.FindFleet(name);  // SetState/StageServer do not touch fleets, but be explicit
  for (int i = 0; i < plan.create; ++i)
    StageServer(core::NewGameServerFromFleet(*fleet, NewServerName(name), now));
  if (plan.status != fleet->status) {
    core::Fleet updated = *fleet;
    updated.status = plan.status;
    if (plan.status.message != fleet->status.message && !plan.status.message.empty())
      spdlog::warn("fleet {}: {}", name, plan.status.message);
    StageFleet(std::move(updated));
  }
  if (plan.requeue_at_ms) RequeueFleetAt(name, plan.requeue_at_ms);
}

void Controller::RequeueFleetAt(const std::string& name, core::TimeMs at) {
  auto& timer = requeue_timers_[name];
  if (!timer) timer = std::make_unique<boost::asio::steady_timer>(owner_);
  timer->expires_after(std::chrono::milliseconds(std::max<core::TimeMs>(0, at - clock_.Now())));
  timer->async_wait([this, name](const boost::system::error_code& ec) {
    if (ec) return;
    dirty_fleets_.insert(name);
    ScheduleReconcile();
  });
}

std::string Controller::NewServerName(const std::string& fleet) {
  static constexpr char kAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  for (;;) {
    std::string name = fleet + "-";
    for (int i = 0; i < 5; ++i) name += kAlphabet[rng_() % (sizeof kAlphabet - 1)];
    if (!world_.FindServer(name)) return name;
  }
}

void Controller::SetState(GameServer gs, GameServerState state, std::string reason,
                          std::string message, Done on_durable) {
  if (!core::CanTransition(gs.status.state, state)) {
    Status s =
        core::FailedPrecondition(std::string("cannot go from ") + core::StateName(gs.status.state) +
                                 " to " + core::StateName(state));
    if (on_durable) on_durable(s);
    return;
  }
  const core::TimeMs now = clock_.Now();
  if (gs.status.state != state) gs.status.state_since_ms = now;
  gs.status.state = state;
  gs.status.reason = std::move(reason);
  gs.status.message = std::move(message);
  if (state == GameServerState::kReady && gs.status.ready_ms == 0) gs.status.ready_ms = now;
  if (state == GameServerState::kUnhealthy || state == GameServerState::kError)
    spdlog::warn("game server {} is {}: {}", gs.meta.name, core::StateName(state),
                 gs.status.message);
  StageServer(std::move(gs), std::move(on_durable));
}

void Controller::AssignAndStart(GameServer gs) {
  if (gs.external) return StartExternal(std::move(gs));
  const std::string name = gs.meta.name;
  auto fail = [&](const char* reason, const std::string& message) {
    game_ports_.ReleaseAll(name);
    sdk_ports_.ReleaseAll(name);
    if (sdk_) sdk_->Close(name);
    gs.status.ports.clear();
    gs.status.sdk_grpc_port = gs.status.sdk_http_port = 0;
    SetState(std::move(gs), GameServerState::kError, reason, message);
  };
  gs.status.ports.clear();
  for (const auto& p : gs.spec->ports) {
    int port = 0;
    if (p.policy == core::PortPolicy::kNone) continue;
    if (p.policy == core::PortPolicy::kStatic) {
      if (probe_(p.host_port, p.protocol))
        return fail("PortUnavailable", "static port " + std::to_string(p.host_port) +
                                           " is already bound on this host");
      if (Status s = game_ports_.Claim(p.host_port, name); !s.ok())
        return fail("PortUnavailable", s.message());
      port = p.host_port;
    } else {
      auto got =
          game_ports_.Allocate(name, [&](int candidate) { return probe_(candidate, p.protocol); });
      if (!got)
        return fail("PortsExhausted", "no free port in " +
                                          std::to_string(options_.game_ports.first) + "-" +
                                          std::to_string(options_.game_ports.last));
      port = *got;
    }
    gs.status.ports.push_back({p.name, port});
  }
  auto tcp_probe = [&](int candidate) { return probe_(candidate, core::Protocol::kTCP); };
  auto grpc = sdk_ports_.Allocate(name, tcp_probe);
  auto http = grpc ? sdk_ports_.Allocate(name, tcp_probe) : std::nullopt;
  if (!grpc || !http)
    return fail("PortsExhausted", "no free SDK port pair in " +
                                      std::to_string(options_.sdk_ports.first) + "-" +
                                      std::to_string(options_.sdk_ports.last));
  gs.status.sdk_grpc_port = *grpc;
  gs.status.sdk_http_port = *http;
  gs.status.node = options_.node.name;
  gs.status.address = options_.node.address;
  SdkEndpoints::Env sdk_env;
  if (sdk_) {
    auto opened = sdk_->Open(gs, world_.FindFleet(gs.fleet));
    if (!opened.ok()) return fail("SdkPortUnavailable", opened.status().message());
    sdk_env = std::move(*opened);
  }

  runtime::LaunchSpec launch{name, gs.spec->process, {}};
  launch.env = {{"MUSTER_FLEET", gs.fleet},
                {"MUSTER_NODE", options_.node.name},
                {"MUSTER_ADDRESS", options_.node.address},
                {"AGONES_SDK_GRPC_PORT", std::to_string(*grpc)},
                {"AGONES_SDK_HTTP_PORT", std::to_string(*http)}};
  for (const auto& p : gs.status.ports)
    launch.env.push_back({core::PortEnvName(p.name), std::to_string(p.port)});
  for (auto& [k, v] : sdk_env) launch.env.push_back({k, std::move(v)});
  auto info = runtime_.Start(launch);
  if (!info.ok()) return fail("StartFailed", info.status().message());

  gs.status.pid = info->pid;
  gs.status.process_start_ticks = info->start_ticks;
  LiveState& live = world_.Live(name);
  live.started_ms = clock_.MonotonicMs();
  live.ping->store(0);
  SetState(std::move(gs), GameServerState::kStarting, "", "");
}

void Controller::Finalize(const GameServer& gs) {
  const std::string name = gs.meta.name;
  game_ports_.ReleaseAll(name);
  sdk_ports_.ReleaseAll(name);
  if (sdk_) sdk_->Close(name);
  Change change = Change::Delete(store::Kind::kGameServer, name, gs.meta.version);
  change.object = gs;  // lets the durable batch name the fleet (Touched)
  world_.EraseServer(name);
  Stage(std::move(change));
}

void Controller::OnProcessExit(const runtime::ExitEvent& ev) {
  const GameServer* gs = world_.FindServer(ev.name);
  if (gs && !stopping_all_) {
    if (core::ExpectsProcess(gs->status.state) && !core::IsTerminating(*gs)) {
      SetState(*gs, GameServerState::kUnhealthy, "ProcessExited", "the process " + ev.Describe());
    } else {
      dirty_servers_.insert(ev.name);
      ScheduleReconcile();
    }
  }
  if (stopping_all_ && all_stopped_) {
    for (const auto& [name, s] : world_.servers())
      if (runtime_.IsRunning(name)) return;
    auto done = std::exchange(all_stopped_, nullptr);
    done();
  }
}

void Controller::SweepHealth() {
  ExpireReservations();
  const core::TimeMs now = clock_.MonotonicMs();
  for (const auto& name : world_.health_checked()) {
    const GameServer* gs = world_.FindServer(name);
    const LiveState& live = world_.Live(name);
    if (gs && core::HealthDeadlinePassed(*gs, live.started_ms, live.last_ping_ms(), now))
      dirty_servers_.insert(name);
  }
  if (!dirty_servers_.empty()) ScheduleReconcile();
  health_timer_.expires_after(options_.health_sweep);
  health_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) SweepHealth();
  });
}

}  // namespace muster::control
