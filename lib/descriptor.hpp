#pragma once
// Owned descriptors and the thin layer of system calls the executor uses.
// Every call retries EINTR and reports failure as a std::error_code, so that
// errno never leaks across layers and tests can reason about one place.

#include <poll.h>
#include <sys/types.h>

#include <cstddef>
#include <system_error>
#include <utility>

#include "common.hpp"

namespace ductile::detail {

class unique_fd {
 public:
  unique_fd() noexcept = default;
  explicit unique_fd(int fd) noexcept : fd_(fd) {}
  unique_fd(unique_fd&& other) noexcept : fd_(other.release()) {}
  unique_fd& operator=(unique_fd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;
  ~unique_fd() { reset(); }

  int get() const noexcept { return fd_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }
  int release() noexcept { return std::exchange(fd_, -1); }
  void reset(int fd = -1) noexcept;

 private:
  int fd_ = -1;
};

struct pipe_ends {
  unique_fd read;
  unique_fd write;
};

// Linux values, spelled out because older C libraries lack the names.
inline constexpr int waitid_pidfd = 3;          // P_PIDFD
inline constexpr int clone_pidfd = 0x00001000;  // CLONE_PIDFD

namespace sys {

std::error_code last_error() noexcept;

// Both ends close-on-exec from birth.
std::error_code make_pipe(pipe_ends& ends) noexcept;
std::error_code open_file(const char* path, int flags, unique_fd& out) noexcept;
std::error_code duplicate(int fd, unique_fd& out) noexcept;
std::error_code set_nonblocking(int fd) noexcept;
// Returns bytes read, 0 at end of file; EAGAIN comes back as an error code.
std::error_code read_some(int fd, char* buffer, std::size_t size, std::size_t& done) noexcept;
// A write that cannot raise SIGPIPE in this process: EPIPE comes back as an error code.
std::error_code write_some(int fd, const char* data, std::size_t size, std::size_t& done) noexcept;
// Waits for events; `timeout_ms` < 0 waits forever. EINTR returns with no events.
std::error_code poll_fds(pollfd* fds, std::size_t count, int timeout_ms, int& ready) noexcept;

}  // namespace sys
}  // namespace ductile::detail
