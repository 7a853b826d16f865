#include "os/descriptor.hpp"

#include <unistd.h>

namespace ductile::detail {

DUCTILE_INLINE void unique_fd::reset(int fd) noexcept {
  if (fd_ >= 0) {
    // close() must not be retried on EINTR on Linux: the descriptor is gone either way.
    ::close(fd_);
  }
  fd_ = fd;
}

}  // namespace ductile::detail
