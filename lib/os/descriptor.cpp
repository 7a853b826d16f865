#include "os/descriptor.hpp"

#ifdef _WIN32
#include <io.h>
#else
#include <unistd.h>
#endif

namespace ductile::detail {

DUCTILE_INLINE void unique_fd::close_now() noexcept {
#ifdef _WIN32
  // The completion port's own handle of the stream, or the event or process
  // the number names; then the C runtime's descriptor, if it is one.
  windows::release(fd_);
  if (fd_ < windows::object_numbers) ::_close(fd_);
#else
  // close() must not be retried on EINTR on Linux: the descriptor is gone either way.
  ::close(fd_);
#endif
  fd_ = -1;
}

}  // namespace ductile::detail
