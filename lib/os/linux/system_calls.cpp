// POSIX systems only: Windows has lib/os/windows/.
#ifndef _WIN32
#include "os/system_calls.hpp"

#include "common.hpp"
#include "os/attempt.hpp"

// The Linux backend: compiled away where the POSIX one is chosen.
#if DUCTILE_LINUX_BACKEND

#include <fcntl.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <ctime>

#include "os/linux/syscall_numbers.hpp"

namespace ductile::detail::sys {

DUCTILE_INLINE std::error_code make_pipe(pipe_ends& ends) noexcept {
  int fds[2];
  if (attempt(call::pipe, [&] { return ::pipe2(fds, O_CLOEXEC); }) != 0) return last_error();
  ends.read.reset(keep_above_stdio(fds[0]));
  ends.write.reset(keep_above_stdio(fds[1]));
  return {};
}

DUCTILE_INLINE void resize_pipe(int fd, std::size_t bytes) noexcept {
  ::fcntl(fd, F_SETPIPE_SZ, static_cast<int>(bytes));
}

DUCTILE_INLINE std::error_code poll_fds(pollfd* fds, std::size_t count, std::chrono::nanoseconds timeout,
                                        int& ready) noexcept {
  long n;
  if (timeout.count() < 0) {
    n = attempt(call::poll, [&] { return ::poll(fds, count, -1); });
  } else {
    timespec limit{};
    limit.tv_sec = static_cast<time_t>(timeout.count() / 1000000000);
    limit.tv_nsec = static_cast<long>(timeout.count() % 1000000000);
    n = attempt(call::poll, [&] { return ::ppoll(fds, count, &limit, nullptr); });
  }
  return poll_outcome(n, fds, count, ready);
}

DUCTILE_INLINE std::error_code make_event(unsigned int initial, event& out) noexcept {
  const long fd = attempt(call::event, [&] { return ::eventfd(initial, EFD_CLOEXEC | EFD_NONBLOCK); });
  if (fd < 0) return last_error();
  out.readable.reset(keep_above_stdio(static_cast<int>(fd)));
  return {};
}

DUCTILE_INLINE void signal_event(const event& target) noexcept {
  const int fd = target.readable.get();
  const std::uint64_t one = 1;
  // EAGAIN means the counter is full: it is readable, which is all that matters.
  while (attempt(call::write, [&] { return ::write(fd, &one, sizeof one); }) < 0 && errno == EINTR) {
  }
}

DUCTILE_INLINE void drain_event(const event& target) noexcept {
  const int fd = target.readable.get();
  std::uint64_t count = 0;
  while (attempt(call::read, [&] { return ::read(fd, &count, sizeof count); }) < 0 && errno == EINTR) {
  }
}

DUCTILE_INLINE long raw_waitid(const process_handle& child, siginfo_t& info, int options, rusage* usage) noexcept {
  // The raw call takes the rusage the C library's waitid() does not.
  if (child.pidfd) return ::syscall(SYS_waitid, waitid_pidfd, child.pidfd.get(), &info, options, usage);
  return ::syscall(SYS_waitid, P_PID, child.pid, &info, options, usage);
}

DUCTILE_INLINE std::error_code wait_process(const process_handle& child, siginfo_t& info, int options,
                                            rusage* usage) noexcept {
  for (;;) {
    const long rc = attempt(call::waitid, [&] { return raw_waitid(child, info, options, usage); });
    if (rc == 0) return {};
    if (errno != EINTR) return last_error();
  }
}

DUCTILE_INLINE void reap_now(const process_handle& child) noexcept {
  siginfo_t info{};
  while (raw_waitid(child, info, WEXITED, nullptr) < 0 && errno == EINTR) {
  }
}

DUCTILE_INLINE void signal_process(const process_handle& child, int signal) noexcept {
  if (child.pidfd) {
    if (::syscall(SYS_pidfd_send_signal, child.pidfd.get(), signal, nullptr, 0) == 0 || errno == ESRCH) return;
    // Refused (a seccomp profile, an old kernel): the pid is still ours.
  }
  if (child.pid > 0) ::kill(child.pid, signal);
}

// MADV_POPULATE_WRITE (Linux 5.14), spelled out for older headers.
inline constexpr int populate_write = 23;

DUCTILE_INLINE std::size_t free_huge_pages(const char* buddyinfo, std::size_t length) noexcept {
  // Lines of "Node 0, zone   Normal  c0 c1 ... c10": c<k> free blocks of 2^k pages.
  constexpr int huge_order = 9;
  std::size_t total = 0;
  std::size_t at = 0;
  while (at < length) {
    std::size_t end = at;
    while (end < length && buddyinfo[end] != '\n') ++end;
    // The counts follow the zone's name, the fourth word.
    int word = 0;
    int order = 0;
    bool in_word = false;
    std::size_t count = 0;
    for (std::size_t i = at; i <= end; ++i) {
      const bool space = i == end || buddyinfo[i] == ' ' || buddyinfo[i] == '\t';
      if (!space && !in_word) {
        in_word = true;
        ++word;
        count = 0;
      }
      if (!space && word > 4) {
        if (buddyinfo[i] < '0' || buddyinfo[i] > '9') return 0;
        count = count * 10 + static_cast<std::size_t>(buddyinfo[i] - '0');
      }
      if (space && in_word) {
        in_word = false;
        if (word > 4) {
          if (order >= huge_order) total += count << (order - huge_order);
          ++order;
        }
      }
    }
    at = end + 1;
  }
  return total;
}

DUCTILE_INLINE void advise_huge_pages(void* data, std::size_t size) noexcept {
  const auto begin = reinterpret_cast<std::uintptr_t>(data);
  const std::uintptr_t first = (begin + huge_page - 1) & ~(huge_page - 1);
  const std::uintptr_t last = (begin + size) & ~(huge_page - 1);
  if (last <= first) return;
  char text[4096];
  std::size_t length = 0;
  const int fd = ::open("/proc/buddyinfo", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    for (;;) {
      const ssize_t got = ::read(fd, text + length, sizeof text - length);
      if (got > 0) length += static_cast<std::size_t>(got);
      if (got == 0 || length == sizeof text || (got < 0 && errno != EINTR)) break;
    }
    ::close(fd);
  }
  // Unreadable (no /proc, a profile): the advice is given, as before.
  if (fd >= 0 && length > 0 && length < sizeof text && free_huge_pages(text, length) < (last - first) / huge_page)
    return;
  ::madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
}

DUCTILE_INLINE void prefault(void* data, std::size_t size) noexcept {
  const auto begin = reinterpret_cast<std::uintptr_t>(data);
  const std::uintptr_t page = 4096;
  const std::uintptr_t first = (begin + page - 1) & ~(page - 1);
  const std::uintptr_t last = (begin + size) & ~(page - 1);
  // One call faults the whole range in: page by page, each fault is a trap,
  // which on virtual machines costs more than zeroing the page. Older kernels
  // refuse (EINVAL), and the pages are faulted as they are written instead.
  if (last > first) ::madvise(reinterpret_cast<void*>(first), last - first, populate_write);
}

}  // namespace ductile::detail::sys

#endif  // DUCTILE_LINUX_BACKEND
#endif  // _WIN32
