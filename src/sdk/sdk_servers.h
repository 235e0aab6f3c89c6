// The SDK endpoints of every game server: for each, an HTTP listener on
// AGONES_SDK_HTTP_PORT (the Agones REST gateway, the PlayFab GSDK agent and the DGS
// callbacks) and a gRPC server on AGONES_SDK_GRPC_PORT (Agones), both on 127.0.0.1 and
// both bound to that one server. Implements control::SdkEndpoints.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include "api/http_server.h"
#include "control/controller.h"
#include "sdk/agones_grpc.h"
#include "sdk/gsdk_agent.h"

namespace muster::sdk {

class SdkServers : public control::SdkEndpoints {
 public:
  // HTTP listeners accept on `io`'s threads. `controller` must outlive this.
  SdkServers(boost::asio::io_context& io, control::Controller& controller, GsdkOptions gsdk);
  // REQUIRES: Shutdown() has run.
  ~SdkServers() override;

  // Called on the controller's owner thread.
  // Also writes the server's GSDK config file; answers the GSDK environment.
  core::StatusOr<Env> Open(const core::GameServer& gs, const core::Fleet* fleet) override;
  void Close(const std::string& name) override;

  // Closes every endpoint and waits until they are gone. Calls in flight are answered
  // by the controller's owner thread, so call this while it still runs, from another
  // thread. Open refuses afterwards.
  void Shutdown();

 private:
  struct Endpoint {
    std::shared_ptr<api::HttpServer> http;
    std::shared_ptr<AgonesGrpc> grpc;
  };
  // A gRPC server's shutdown waits for its calls, which the owner thread answers:
  // it happens here, never on the owner thread.
  void Retire(Endpoint ep);

  boost::asio::io_context& io_;
  control::Controller& controller_;
  GsdkOptions gsdk_;
  std::mutex mu_;
  std::map<std::string, Endpoint> endpoints_;
  bool shut_down_ = false;
  boost::asio::thread_pool closer_{1};
};

}  // namespace muster::sdk
