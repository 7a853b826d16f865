#include "os/descriptor.hpp"

#include <unistd.h>

namespace ductile::detail {

DUCTILE_INLINE void unique_fd::close_now() noexcept {
  // close() must not be retried on EINTR on Linux: the descriptor is gone either way.
  ::close(fd_);
  fd_ = -1;
}

}  // namespace ductile::detail
