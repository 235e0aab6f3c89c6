// The Agones SDK over gRPC, embedded mode: services agones.dev.sdk.SDK, .alpha.SDK and
// .beta.SDK (proto/agones/) served on one game server's own gRPC SDK port
// (AGONES_SDK_GRPC_PORT), 127.0.0.1 only, bound to that server's ServerSdk.
#pragma once

#include <memory>

#include "core/status.h"
#include "sdk/server_sdk.h"

namespace grpc {
class Server;
}

namespace muster::sdk {

class AgonesGrpc {
 public:
  // Listens on 127.0.0.1:`port` at once; Unavailable if it cannot.
  static core::StatusOr<std::unique_ptr<AgonesGrpc>> Start(const ServerSdk& sdk, int port);
  // Shuts down: open streams are cancelled; waits for calls in flight to finish, whose
  // answers come from the controller's owner thread, so never call this there.
  ~AgonesGrpc();

  struct Services;

 private:
  AgonesGrpc() = default;
  std::unique_ptr<Services> services_;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace muster::sdk
