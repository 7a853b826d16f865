// The fault seam of os/system_calls.hpp, the same on every system: a test
// makes a call fail by installing an injector; without one, a call pays one
// atomic load.

#include <atomic>

#include "common.hpp"
#include "os/system_calls.hpp"

namespace ductile::detail::sys {

// Constant-initialized, so no guard is taken: the child reads it between
// clone and exec.
DUCTILE_INLINE DUCTILE_HIDDEN std::atomic<fault_injector>& active_injector() noexcept {
  static std::atomic<fault_injector> injector{nullptr};
  return injector;
}

DUCTILE_INLINE void set_fault_injector(fault_injector injector) noexcept {
  active_injector().store(injector, std::memory_order_release);
}

DUCTILE_INLINE int injected_fault(call which) noexcept {
  const fault_injector injector = active_injector().load(std::memory_order_acquire);
  return injector != nullptr ? injector(which) : 0;
}

}  // namespace ductile::detail::sys
