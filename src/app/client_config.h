// Where the CLI finds Muster and its token: flags, then MUSTER_ADDR / MUSTER_TOKEN,
// then the files `muster serve` writes in its data dir (muster.addr, admin.token).
#pragma once

#include <string>

#include "core/status.h"

namespace muster::app {

struct ClientFlags {
  std::string addr;
  std::string token;
  std::string data_dir = "./muster-data";
};

struct ClientConfig {
  std::string host;
  int port = 0;
  std::string token;
};

core::StatusOr<ClientConfig> ResolveClientConfig(const ClientFlags& flags);

}  // namespace muster::app
