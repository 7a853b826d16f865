#pragma once
// Owned descriptors.

#include <sys/types.h>

#include <utility>

#include "common.hpp"

namespace ductile::detail {

class unique_fd {
 public:
  unique_fd() noexcept = default;
  explicit unique_fd(int fd) noexcept : fd_(fd) {}
  unique_fd(unique_fd&& other) noexcept : fd_(other.release()) {}
  unique_fd& operator=(unique_fd&& other) noexcept {
    if (this != &other) {
      if (fd_ >= 0) close_now();
      fd_ = other.release();
    }
    return *this;
  }
  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;
  ~unique_fd() {
    if (fd_ >= 0) close_now();  // most are moved-from: no call for those
  }

  int get() const noexcept { return fd_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }
  int release() noexcept { return std::exchange(fd_, -1); }
  void reset(int fd = -1) noexcept {
    if (fd_ >= 0) close_now();
    fd_ = fd;
  }

 private:
  void close_now() noexcept;

  int fd_ = -1;
};

struct pipe_ends {
  unique_fd read;
  unique_fd write;
};

// A child as the kernel lets us hold it: a pidfd where it has them (Linux
// 5.4 and later, when allowed), else its pid alone.
struct process_handle {
  pid_t pid = -1;
  unique_fd pidfd;  // empty: waited for and signalled by pid
};

#ifdef _WIN32
namespace windows {
// Numbers above every C runtime descriptor name the completion port's events
// and processes (lib/os/windows/io_port.hpp); release() lets go of what a
// number names, a stream the port serves included.
inline constexpr int object_numbers = 1 << 24;
void release(int number) noexcept;
}  // namespace windows
#endif

// Linux values, spelled out because older C libraries lack the names.
inline constexpr int waitid_pidfd = 3;          // P_PIDFD
inline constexpr int clone_pidfd = 0x00001000;  // CLONE_PIDFD

}  // namespace ductile::detail
