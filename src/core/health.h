// Health deadlines, as Agones defines them: a server is Unhealthy once
// failure_threshold periods of period_s pass with no ping, counted from
// initial_delay_s after its start. Pure.
#pragma once

#include "core/model.h"

namespace muster::core {

// The moment the server turns Unhealthy if no (further) ping arrives.
// `started_ms` is when its process started (or was re-adopted); `last_ping_ms` is 0
// when it has not pinged since then. All times, `now` too, are on one clock; the
// controller uses a monotonic one, so that a change of the system's time moves no deadline. Returns
// 0 when health checking does not apply (disabled, or a state that is not checked).
TimeMs HealthDeadline(const GameServer& gs, TimeMs started_ms, TimeMs last_ping_ms);

bool HealthDeadlinePassed(const GameServer& gs, TimeMs started_ms, TimeMs last_ping_ms, TimeMs now);

}  // namespace muster::core
