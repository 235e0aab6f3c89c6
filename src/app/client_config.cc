#include "app/client_config.h"

#include <cstdlib>
#include <fstream>

#include "api/http_client.h"

namespace muster::app {
namespace {

std::string FirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (in) std::getline(in, line);
  return line;
}

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

}  // namespace

core::StatusOr<ClientConfig> ResolveClientConfig(const ClientFlags& flags) {
  std::string dir = flags.data_dir.empty() ? "./muster-data" : flags.data_dir;
  std::string addr = flags.addr;
  if (addr.empty()) addr = Env("MUSTER_ADDR");
  if (addr.empty()) addr = FirstLine(dir + "/muster.addr");
  if (addr.empty()) addr = "127.0.0.1:6200";
  auto hp = api::ParseAddress(addr);
  if (!hp.ok()) return core::InvalidArgument(hp.status().message(), "--addr");
  ClientConfig out{hp->first, hp->second, flags.token};
  if (out.token.empty()) out.token = Env("MUSTER_TOKEN");
  if (out.token.empty()) out.token = FirstLine(dir + "/admin.token");
  return out;
}

}  // namespace muster::app
