#include "sdk/sdk_servers.h"

#include <boost/asio/post.hpp>

#include "sdk/agones_rest.h"

namespace muster::sdk {

SdkServers::SdkServers(boost::asio::io_context& io, control::Controller& controller,
                       GsdkOptions gsdk)
    : io_(io), controller_(controller), gsdk_(std::move(gsdk)) {}

SdkServers::~SdkServers() { Shutdown(); }

core::StatusOr<SdkServers::Env> SdkServers::Open(const core::GameServer& gs,
                                                 const core::Fleet* fleet) {
  const std::string& name = gs.meta.name;
  Close(name);
  auto env = WriteGsdkConfig(gs, fleet, gsdk_);
  if (!env.ok()) return env.status();
  ServerSdk sdk(controller_, name, controller_.PingSlotOf(name));
  std::vector<api::Route> routes = AgonesRestRoutes(sdk);
  for (auto& r : GsdkAgentRoutes(sdk, gsdk_)) routes.push_back(std::move(r));
  // The router lives as long as the listener's handler may run: the handler holds it.
  auto router = std::make_shared<api::Router>(std::move(routes), nullptr);
  api::HttpServer::Options options;
  options.address = "127.0.0.1";
  options.port = gs.status.sdk_http_port;
  options.body_limit = 64 * 1024;
  auto http =
      api::HttpServer::Listen(io_, options, [router](const api::Request& req, api::Reply reply) {
        router->Handle(req, std::move(reply));
      });
  if (!http.ok()) return http.status();
  auto grpc = AgonesGrpc::Start(sdk, gs.status.sdk_grpc_port);
  if (!grpc.ok()) {
    (*http)->Close();
    return grpc.status();
  }
  std::lock_guard lock(mu_);
  Endpoint ep{std::move(*http), std::shared_ptr<AgonesGrpc>(std::move(*grpc))};
  if (shut_down_) {
    Retire(std::move(ep));
    return core::Status(core::Code::kUnavailable, "Muster is stopping");
  }
  endpoints_[name] = std::move(ep);
  return std::move(*env);
}

void SdkServers::Close(const std::string& name) {
  std::lock_guard lock(mu_);
  auto it = endpoints_.find(name);
  if (it == endpoints_.end()) return;
  Retire(std::move(it->second));
  endpoints_.erase(it);
  RemoveGsdkConfig(name, gsdk_);
}

void SdkServers::Retire(Endpoint ep) {
  ep.http->Close();
  boost::asio::post(closer_, [grpc = std::move(ep.grpc)]() mutable { grpc.reset(); });
}

void SdkServers::Shutdown() {
  {
    std::lock_guard lock(mu_);
    if (shut_down_) return;
    shut_down_ = true;
    for (auto& [name, ep] : endpoints_) Retire(std::move(ep));
    endpoints_.clear();
  }
  closer_.join();
}

}  // namespace muster::sdk
