// The API tokens in force, by SHA-256 of the token. Written by the controller's
// owner thread, read by every I/O thread that authenticates a request.
#pragma once

#include <map>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "core/model.h"

namespace muster::control {

class TokenTable {
 public:
  // Thread-safe.
  std::optional<core::ApiToken> FindBySha256(const std::string& sha256_hex) const {
    std::shared_lock lock(mu_);
    auto it = by_hash_.find(sha256_hex);
    if (it == by_hash_.end()) return std::nullopt;
    return it->second;
  }
  void Put(const core::ApiToken& t) {
    std::unique_lock lock(mu_);
    by_hash_[t.sha256_hex] = t;
  }
  void EraseByName(const std::string& name) {
    std::unique_lock lock(mu_);
    for (auto it = by_hash_.begin(); it != by_hash_.end();)
      it = it->second.name == name ? by_hash_.erase(it) : std::next(it);
  }

 private:
  mutable std::shared_mutex mu_;
  std::map<std::string, core::ApiToken> by_hash_;
};

}  // namespace muster::control
