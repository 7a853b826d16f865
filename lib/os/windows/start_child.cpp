// Starting a child on Windows: not there yet, so every start fails as
// "not supported on this system" and names the step, as a failed start does.

#include "common.hpp"

#if DUCTILE_WINDOWS_BACKEND
#include "os/start_child.hpp"
#include "os/system_calls.hpp"

namespace ductile::detail {

DUCTILE_INLINE start_mode usual_start_mode() noexcept { return start_mode::copied_memory; }

DUCTILE_INLINE pidfd_support pidfds() noexcept { return pidfd_support::absent; }

DUCTILE_INLINE started_child start_child(child_plan&, child_report&, start_mode) noexcept {
  started_child started;
  started.error = sys::not_supported();
  started.step = "spawn";
  started.what = "start a process";
  return started;
}

}  // namespace ductile::detail
#endif  // DUCTILE_WINDOWS_BACKEND
