// One SDK listener per game server, on 127.0.0.1 at the server's own HTTP SDK port
// (AGONES_SDK_HTTP_PORT). Implements control::SdkEndpoints.
#pragma once

#include <map>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "api/http_server.h"
#include "api/router.h"
#include "control/controller.h"

namespace muster::sdk {

class SdkServers : public control::SdkEndpoints {
 public:
  // Listeners accept on `io`'s threads. `controller` must outlive this.
  SdkServers(boost::asio::io_context& io, control::Controller& controller);
  ~SdkServers() override;

  // Called on the controller's owner thread.
  core::Status Open(const core::GameServer& gs) override;
  void Close(const std::string& name) override;

 private:
  struct Endpoint {
    std::shared_ptr<api::HttpServer> http;
  };
  boost::asio::io_context& io_;
  control::Controller& controller_;
  std::map<std::string, Endpoint> endpoints_;
};

}  // namespace muster::sdk
