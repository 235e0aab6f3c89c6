#include "core/health.h"

#include <algorithm>

namespace muster::core {

TimeMs HealthDeadline(const GameServer& gs, TimeMs started_ms, TimeMs last_ping_ms) {
  const HealthSpec& h = gs.spec->health;
  if (h.disabled || !ExpectsProcess(gs.status.state) || gs.meta.deletion_ms != 0) return 0;
  const TimeMs window = static_cast<TimeMs>(h.period_s) * h.failure_threshold * 1000;
  const TimeMs first_check = started_ms + static_cast<TimeMs>(h.initial_delay_s) * 1000;
  return std::max(first_check, last_ping_ms) + window;
}

bool HealthDeadlinePassed(const GameServer& gs, TimeMs started_ms, TimeMs last_ping_ms,
                          TimeMs now) {
  TimeMs deadline = HealthDeadline(gs, started_ms, last_ping_ms);
  return deadline != 0 && now >= deadline;
}

}  // namespace muster::core
