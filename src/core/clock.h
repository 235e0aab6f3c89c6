// Time is passed into core, never read by it. Controllers hold a Clock; tests use a fake.
#pragma once

#include "core/model.h"

namespace muster::core {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimeMs Now() const = 0;  // milliseconds since the Unix epoch
  // Milliseconds on a clock that never steps (since boot): for deadlines that live only
  // as long as this process, such as health. Unlike Now(), an NTP or manual change of
  // the system's time does not move it, so it must never be stored or shown.
  virtual TimeMs MonotonicMs() const = 0;
};

}  // namespace muster::core
