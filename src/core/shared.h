// Shared<T>: an immutable value shared between copies. Copying one is a reference
// count, not a deep copy; changing one (mut()) first gives this copy its own value,
// so no other copy, on any thread, ever sees the change. Pure.
#pragma once

#include <memory>

namespace muster::core {

template <typename T>
class Shared {
 public:
  Shared() : p_(std::make_shared<T>()) {}
  Shared(T value) : p_(std::make_shared<T>(std::move(value))) {}  // NOLINT: implicit by design

  const T& operator*() const { return *p_; }
  const T* operator->() const { return p_.get(); }
  const T& get() const { return *p_; }

  // A private copy to change. Use while building an object, not on hot paths.
  T& mut() {
    p_ = std::make_shared<T>(*p_);
    return *p_;
  }

  bool operator==(const Shared& o) const { return p_ == o.p_ || *p_ == *o.p_; }

 private:
  std::shared_ptr<T> p_;
};

}  // namespace muster::core
