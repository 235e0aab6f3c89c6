// One game server's SDK: every call any SDK family makes (Agones gRPC and REST, the
// PlayFab GSDK agent, DGS callbacks), bound to one server. Each family's endpoint is
// opened for exactly one server and holds one ServerSdk, so a caller can only ever
// act on the server whose port or id it came in on (isolation).
//
// Callbacks run on the controller's owner thread (Health with a ping slot: on the
// caller's) and must not block.
#pragma once

#include <string>
#include <vector>

#include "control/controller.h"
#include "core/sdk_ops.h"

namespace muster::sdk {

using control::Callback;
using core::GameServer;

class ServerSdk {
 public:
  // `ping`, when given, records health pings without a trip to the owner thread.
  ServerSdk(control::Controller& controller, std::string name, control::PingSlot ping = nullptr)
      : c_(&controller), name_(std::move(name)), ping_(std::move(ping)) {}
  const std::string& name() const { return name_; }

  // Lifecycle (reference: Ready, Allocate, Shutdown, Reserve, Health).
  void Ready(Callback<GameServer> done) const { c_->SdkReady(name_, std::move(done)); }
  void Allocate(Callback<GameServer> done) const { c_->SdkAllocate(name_, std::move(done)); }
  void Shutdown(Callback<GameServer> done) const { c_->SdkShutdown(name_, std::move(done)); }
  void Reserve(int64_t seconds, Callback<GameServer> done) const {
    c_->SdkReserve(name_, seconds, std::move(done));
  }
  // A health ping. With a ping slot it is recorded at once and `done` runs on the
  // caller's thread.
  void Health(Callback<bool> done) const {
    if (!ping_) return c_->SdkHealth(name_, std::move(done));
    ping_->store(c_->HealthNow(), std::memory_order_relaxed);
    done(true);
  }
  void Unhealthy(std::string message, Callback<GameServer> done) const {
    c_->SdkUnhealthy(name_, std::move(message), std::move(done));
  }
  void Get(Callback<GameServer> done) const { c_->GetGameServer(name_, std::move(done)); }

  // Any other pure edit of the server (see Controller::SdkEdit).
  void Edit(control::Controller::ServerEdit edit, Callback<GameServer> done) const;
  void Node(const std::string& node, Callback<core::Node> done) const {
    c_->GetNode(node, std::move(done));
  }

  // Metadata, with the agones.dev/sdk- prefix.
  void SetLabel(std::string key, std::string value, Callback<GameServer> done) const;
  void SetAnnotation(std::string key, std::string value, Callback<GameServer> done) const;

  // Players. Connect/Disconnect answer whether the set changed (Agones' Bool).
  void PlayerConnect(std::string id, Callback<bool> done) const;
  void PlayerDisconnect(std::string id, Callback<bool> done) const;
  void SetPlayerCapacity(int64_t capacity, Callback<GameServer> done) const;
  void SetConnectedPlayers(std::vector<std::string> ids, Callback<GameServer> done) const;
  void SetPlayerCount(int64_t count, Callback<GameServer> done) const;

  // Counters and lists: each answers the counter or list after the call.
  void GetCounter(std::string name, Callback<core::CounterStatus> done) const;
  void UpdateCounter(std::string name, core::CounterUpdate u,
                     Callback<core::CounterStatus> done) const;
  void GetList(std::string name, Callback<core::ListStatus> done) const;
  void UpdateList(std::string name, core::ListUpdate u, Callback<core::ListStatus> done) const;
  void AddListValue(std::string name, std::string value, Callback<core::ListStatus> done) const;
  void RemoveListValue(std::string name, std::string value, Callback<core::ListStatus> done) const;

  // The server now, then after every change; nullptr once it is gone (see
  // Controller::WatchServer). Returns the id for Unwatch.
  uint64_t Watch(control::Controller::ServerWatch on_change) const {
    return c_->WatchServer(name_, std::move(on_change));
  }
  void Unwatch(uint64_t id) const { c_->Unwatch(id); }

 private:
  // Runs a pure edit and answers `project(server)` after it is durable.
  template <typename T, typename E, typename P>
  void EditThen(E edit, P project, Callback<T> done) const;

  control::Controller* c_;
  std::string name_;
  control::PingSlot ping_;
};

}  // namespace muster::sdk
