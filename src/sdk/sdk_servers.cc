#include "sdk/sdk_servers.h"

#include "sdk/agones_rest.h"

namespace muster::sdk {

SdkServers::SdkServers(boost::asio::io_context& io, control::Controller& controller)
    : io_(io), controller_(controller) {}

SdkServers::~SdkServers() {
  for (auto& [name, ep] : endpoints_) ep.http->Close();
}

core::Status SdkServers::Open(const core::GameServer& gs) {
  const std::string& name = gs.meta.name;
  Close(name);
  // The router lives as long as the listener's handler may run: the handler holds it.
  auto router = std::make_shared<api::Router>(AgonesRestRoutes(controller_, name), nullptr);
  api::HttpServer::Options options;
  options.address = "127.0.0.1";
  options.port = gs.status.sdk_http_port;
  options.body_limit = 64 * 1024;
  auto server =
      api::HttpServer::Listen(io_, options, [router](const api::Request& req, api::Reply reply) {
        router->Handle(req, std::move(reply));
      });
  if (!server.ok()) return server.status();
  endpoints_[name] = Endpoint{std::move(*server)};
  return core::OkStatus();
}

void SdkServers::Close(const std::string& name) {
  auto it = endpoints_.find(name);
  if (it == endpoints_.end()) return;
  it->second.http->Close();
  endpoints_.erase(it);
}

}  // namespace muster::sdk
