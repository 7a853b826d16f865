// The background thread's wait on Windows: not there yet. Opening the set
// fails, so the thread is never made and every run that needs it fails
// with "not supported on this system".

#include "common.hpp"

#if DUCTILE_WINDOWS_BACKEND
#include "os/readiness.hpp"

namespace ductile::detail::sys {

DUCTILE_INLINE std::error_code readiness_set::open() noexcept { return not_supported(); }
DUCTILE_INLINE void readiness_set::watch(int, short, std::uint32_t) {}
DUCTILE_INLINE void readiness_set::forget(int, std::uint32_t) noexcept {}
DUCTILE_INLINE void readiness_set::watch_event(const event&, std::uint32_t) {}
DUCTILE_INLINE void readiness_set::forget_event(const event&, std::uint32_t) noexcept {}
DUCTILE_INLINE bool readiness_set::reports(const readiness&, const event&) noexcept { return false; }
DUCTILE_INLINE void readiness_set::follow(const os::wait_list&, std::uint32_t, followed&) {}
DUCTILE_INLINE void readiness_set::forget_all(followed&, std::uint32_t) noexcept {}
DUCTILE_INLINE std::error_code readiness_set::wait(std::chrono::nanoseconds, std::vector<readiness>&) {
  return not_supported();
}

}  // namespace ductile::detail::sys
#endif  // DUCTILE_WINDOWS_BACKEND
