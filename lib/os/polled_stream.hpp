#pragma once
// One stream a readiness wait looks at, with the events asked for and those
// seen: poll()'s own record on POSIX systems, so a wait hands the kernel the
// list as it is. Windows has no such call for pipes; its loop keeps the same
// record for the run layer's sake and completes operations instead.

#ifdef _WIN32
namespace ductile::detail::os {
struct polled_stream {
  int fd;
  short events;
  short revents;
};
inline constexpr short ready_to_read = 0x1;
inline constexpr short ready_to_write = 0x4;
// What a wait reports whether asked or not.
inline constexpr short ended_or_failed = 0x8 | 0x10 | 0x20;
}  // namespace ductile::detail::os
#else
#include <poll.h>

namespace ductile::detail::os {
using polled_stream = ::pollfd;
inline constexpr short ready_to_read = POLLIN;
inline constexpr short ready_to_write = POLLOUT;
// What poll() reports whether asked or not.
inline constexpr short ended_or_failed = POLLERR | POLLHUP | POLLNVAL;
}  // namespace ductile::detail::os
#endif
