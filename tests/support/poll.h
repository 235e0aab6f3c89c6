// Waiting in tests: poll a condition until it holds or a deadline passes. Never
// sleep and hope.
#pragma once

#include <chrono>
#include <functional>

namespace muster::testing {

// Polls `condition` every `interval` until it returns true (→ true) or `timeout`
// passes (→ false).
bool PollUntil(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
               std::chrono::milliseconds interval = std::chrono::milliseconds(50));

}  // namespace muster::testing
