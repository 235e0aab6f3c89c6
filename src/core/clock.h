// Time is passed into core, never read by it. Controllers hold a Clock; tests use a fake.
#pragma once

#include "core/model.h"

namespace muster::core {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimeMs Now() const = 0;  // milliseconds since the Unix epoch
};

}  // namespace muster::core
