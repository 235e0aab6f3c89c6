#include "runtime/log_file.h"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace muster::runtime {
namespace fs = std::filesystem;

void EnforceLogCap(const std::string& path, uint64_t max_bytes) {
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  if (ec || size <= max_bytes) return;
  fs::copy_file(path, path + ".1", fs::copy_options::overwrite_existing, ec);
  if (ec) return;
  fs::resize_file(path, 0, ec);
}

std::string ReadLogTail(const std::string& path, uint64_t max_bytes) {
  std::string out;
  for (const std::string& p : {path + ".1", path}) {
    std::ifstream in(p, std::ios::binary);
    if (!in) continue;
    std::ostringstream ss;
    ss << in.rdbuf();
    out += ss.str();
  }
  if (out.size() > max_bytes) out.erase(0, out.size() - max_bytes);
  return out;
}

}  // namespace muster::runtime
