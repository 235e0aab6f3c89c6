#include "sdk/server_sdk.h"

namespace muster::sdk {

template <typename T, typename E, typename P>
void ServerSdk::EditThen(E edit, P project, Callback<T> done) const {
  c_->SdkEdit(name_, std::move(edit),
              [project = std::move(project),
               done = std::move(done)](core::StatusOr<control::Controller::Edited> r) {
                if (!r.ok()) return done(r.status());
                done(project(*r));
              });
}

namespace {

GameServer Server(const control::Controller::Edited& e) { return e.server; }

}  // namespace

void ServerSdk::Edit(control::Controller::ServerEdit edit, Callback<GameServer> done) const {
  EditThen<GameServer>(std::move(edit), Server, std::move(done));
}

void ServerSdk::SetLabel(std::string key, std::string value, Callback<GameServer> done) const {
  EditThen<GameServer>([key, value](GameServer& gs) { return core::SetSdkLabel(gs, key, value); },
                       Server, std::move(done));
}

void ServerSdk::SetAnnotation(std::string key, std::string value, Callback<GameServer> done) const {
  EditThen<GameServer>(
      [key, value](GameServer& gs) { return core::SetSdkAnnotation(gs, key, value); }, Server,
      std::move(done));
}

void ServerSdk::PlayerConnect(std::string id, Callback<bool> done) const {
  EditThen<bool>([id](GameServer& gs) { return core::PlayerConnect(gs, id); },
                 [](const control::Controller::Edited& e) { return e.changed; }, std::move(done));
}

void ServerSdk::PlayerDisconnect(std::string id, Callback<bool> done) const {
  EditThen<bool>([id](GameServer& gs) { return core::PlayerDisconnect(gs, id); },
                 [](const control::Controller::Edited& e) { return e.changed; }, std::move(done));
}

void ServerSdk::SetPlayerCapacity(int64_t capacity, Callback<GameServer> done) const {
  EditThen<GameServer>([capacity](GameServer& gs) { return core::SetPlayerCapacity(gs, capacity); },
                       Server, std::move(done));
}

void ServerSdk::SetConnectedPlayers(std::vector<std::string> ids, Callback<GameServer> done) const {
  EditThen<GameServer>(
      [ids](GameServer& gs) -> core::StatusOr<bool> { return core::SetConnectedPlayers(gs, ids); },
      Server, std::move(done));
}

void ServerSdk::SetPlayerCount(int64_t count, Callback<GameServer> done) const {
  EditThen<GameServer>([count](GameServer& gs) { return core::SetPlayerCount(gs, count); }, Server,
                       std::move(done));
}

void ServerSdk::GetCounter(std::string name, Callback<core::CounterStatus> done) const {
  Get([name, done = std::move(done)](core::StatusOr<GameServer> gs) {
    if (!gs.ok()) return done(gs.status());
    done(core::GetCounter(*gs, name));
  });
}

void ServerSdk::UpdateCounter(std::string name, core::CounterUpdate u,
                              Callback<core::CounterStatus> done) const {
  EditThen<core::CounterStatus>(
      [name, u](GameServer& gs) { return core::UpdateCounter(gs, name, u); },
      [name](const control::Controller::Edited& e) { return e.server.status.counters.at(name); },
      std::move(done));
}

void ServerSdk::GetList(std::string name, Callback<core::ListStatus> done) const {
  Get([name, done = std::move(done)](core::StatusOr<GameServer> gs) {
    if (!gs.ok()) return done(gs.status());
    done(core::GetList(*gs, name));
  });
}

namespace {

auto ListOf(const std::string& name) {
  return [name](const control::Controller::Edited& e) { return e.server.status.lists.at(name); };
}

}  // namespace

void ServerSdk::UpdateList(std::string name, core::ListUpdate u,
                           Callback<core::ListStatus> done) const {
  EditThen<core::ListStatus>([name, u](GameServer& gs) { return core::UpdateList(gs, name, u); },
                             ListOf(name), std::move(done));
}

void ServerSdk::AddListValue(std::string name, std::string value,
                             Callback<core::ListStatus> done) const {
  EditThen<core::ListStatus>(
      [name, value](GameServer& gs) { return core::AddListValue(gs, name, value); }, ListOf(name),
      std::move(done));
}

void ServerSdk::RemoveListValue(std::string name, std::string value,
                                Callback<core::ListStatus> done) const {
  EditThen<core::ListStatus>(
      [name, value](GameServer& gs) { return core::RemoveListValue(gs, name, value); },
      ListOf(name), std::move(done));
}

}  // namespace muster::sdk
