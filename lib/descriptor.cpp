#include "descriptor.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

namespace ductile::detail {

DUCTILE_INLINE void unique_fd::reset(int fd) noexcept {
  if (fd_ >= 0) {
    // close() must not be retried on EINTR on Linux: the descriptor is gone either way.
    ::close(fd_);
  }
  fd_ = fd;
}

namespace sys {

DUCTILE_INLINE std::error_code last_error() noexcept { return std::error_code(errno, std::generic_category()); }

DUCTILE_INLINE std::error_code make_pipe(pipe_ends& ends) noexcept {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return last_error();
  ends.read.reset(fds[0]);
  ends.write.reset(fds[1]);
  return {};
}

DUCTILE_INLINE std::error_code open_file(const char* path, int flags, unique_fd& out) noexcept {
  for (;;) {
    const int fd = ::open(path, flags | O_CLOEXEC, 0666);
    if (fd >= 0) {
      out.reset(fd);
      return {};
    }
    if (errno != EINTR) return last_error();
  }
}

DUCTILE_INLINE std::error_code duplicate(int fd, unique_fd& out) noexcept {
  const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (copy < 0) return last_error();
  out.reset(copy);
  return {};
}

DUCTILE_INLINE std::error_code set_nonblocking(int fd) noexcept {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) return last_error();
  return {};
}

DUCTILE_INLINE std::error_code read_some(int fd, char* buffer, std::size_t size, std::size_t& done) noexcept {
  for (;;) {
    const ssize_t n = ::read(fd, buffer, size);
    if (n >= 0) {
      done = static_cast<std::size_t>(n);
      return {};
    }
    if (errno != EINTR) return last_error();
  }
}

DUCTILE_INLINE std::error_code write_some(int fd, const char* data, std::size_t size, std::size_t& done) noexcept {
  // A pipe whose reader has gone raises SIGPIPE in the writing thread, and its
  // default action kills the whole process. Block it around the write, and if
  // this write raised it, consume it before unblocking so nothing is delivered.
  sigset_t pipe_only, previous;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  sigset_t pending;
  sigpending(&pending);
  const bool was_pending = sigismember(&pending, SIGPIPE) == 1;
  pthread_sigmask(SIG_BLOCK, &pipe_only, &previous);
  ssize_t n;
  do {
    n = ::write(fd, data, size);
  } while (n < 0 && errno == EINTR);
  const int saved = errno;
  if (n < 0 && saved == EPIPE && !was_pending) {
    const timespec zero{0, 0};
    while (sigtimedwait(&pipe_only, nullptr, &zero) < 0 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  if (n < 0) return std::error_code(saved, std::generic_category());
  done = static_cast<std::size_t>(n);
  return {};
}

DUCTILE_INLINE std::error_code poll_fds(pollfd* fds, std::size_t count, int timeout_ms, int& ready) noexcept {
  const int n = ::poll(fds, count, timeout_ms);
  if (n < 0) {
    ready = 0;
    if (errno == EINTR) return {};
    return last_error();
  }
  ready = n;
  return {};
}

}  // namespace sys
}  // namespace ductile::detail
