// The background thread's wait on Windows: its watches are reported by the
// completion port's thread (io_port.hpp), one-shot as on Linux.

#include "common.hpp"

#if DUCTILE_WINDOWS_BACKEND
#include "os/readiness.hpp"
#include "os/windows/io_port.hpp"

namespace ductile::detail::sys {

DUCTILE_INLINE std::error_code readiness_set::open() noexcept {
  try {
    waiter_ = std::make_shared<windows::waiter>();
    return {};
  } catch (const std::system_error& failure) {
    return failure.code();
  } catch (...) {
    return std::make_error_code(std::errc::not_enough_memory);
  }
}

DUCTILE_INLINE void readiness_set::watch(int fd, short events, std::uint32_t owner) {
  windows::watch(fd, events, *waiter_, owner);
}

DUCTILE_INLINE void readiness_set::forget(int fd, std::uint32_t owner) noexcept {
  windows::forget(fd, *waiter_, owner);
}

DUCTILE_INLINE void readiness_set::watch_event(const event& wake_up, std::uint32_t owner) {
  watch(wake_up.readable.get(), os::ready_to_read, owner);
}

DUCTILE_INLINE void readiness_set::forget_event(const event& wake_up, std::uint32_t owner) noexcept {
  forget(wake_up.readable.get(), owner);
}

DUCTILE_INLINE bool readiness_set::reports(const readiness& ready, const event& wake_up) noexcept {
  return ready.fd == wake_up.readable.get();
}

DUCTILE_INLINE std::error_code readiness_set::wait(std::chrono::nanoseconds timeout, std::vector<readiness>& ready) {
  windows::wait(*waiter_, timeout, ready);
  return {};
}

}  // namespace ductile::detail::sys
#endif  // DUCTILE_WINDOWS_BACKEND
