#include "os/system_calls.hpp"

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

DUCTILE_INLINE DUCTILE_HIDDEN std::atomic<fault_injector>& active_injector() noexcept {
  static std::atomic<fault_injector> injector{nullptr};
  return injector;
}

DUCTILE_INLINE void set_fault_injector(fault_injector injector) noexcept {
  active_injector().store(injector, std::memory_order_release);
}

DUCTILE_INLINE int injected_fault(call which) noexcept {
  const fault_injector injector = active_injector().load(std::memory_order_acquire);
  return injector != nullptr ? injector(which) : 0;
}

// Makes the call unless a fault is injected, in which case errno is set as the
// failing call would have set it.
template <class Call>
long attempt(call which, Call&& make_call) noexcept {
  if (const int fault = injected_fault(which)) {
    errno = fault;
    return -1;
  }
  return static_cast<long>(make_call());
}

DUCTILE_INLINE std::error_code last_error() noexcept { return std::error_code(errno, std::generic_category()); }

DUCTILE_INLINE int keep_above_stdio(int fd) noexcept {
  if (fd < 0 || fd > 2) return fd;
  const int saved = errno;
  const int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  errno = saved;
  if (moved < 0) return fd;  // out of descriptors: still valid where it is
  ::close(fd);
  return moved;
}

DUCTILE_INLINE std::error_code make_pipe(pipe_ends& ends) noexcept {
  int fds[2];
  if (attempt(call::pipe, [&] { return ::pipe2(fds, O_CLOEXEC); }) != 0) return last_error();
  ends.read.reset(keep_above_stdio(fds[0]));
  ends.write.reset(keep_above_stdio(fds[1]));
  return {};
}

DUCTILE_INLINE std::error_code open_file(const char* path, int flags, unique_fd& out) noexcept {
  for (;;) {
    const long fd = attempt(call::open, [&] { return ::open(path, flags | O_CLOEXEC, 0666); });
    if (fd >= 0) {
      out.reset(keep_above_stdio(static_cast<int>(fd)));
      return {};
    }
    if (errno != EINTR) return last_error();
  }
}

DUCTILE_INLINE std::error_code duplicate(int fd, unique_fd& out) noexcept {
  const long copy = attempt(call::duplicate, [&] { return ::fcntl(fd, F_DUPFD_CLOEXEC, 3); });
  if (copy < 0) return last_error();
  out.reset(static_cast<int>(copy));
  return {};
}

DUCTILE_INLINE std::error_code set_nonblocking(int fd) noexcept {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) return last_error();
  return {};
}

DUCTILE_INLINE bool is_regular_file(int fd) noexcept {
  struct stat info {};
  return ::fstat(fd, &info) == 0 && S_ISREG(info.st_mode);
}

DUCTILE_INLINE void resize_pipe(int fd, std::size_t bytes) noexcept {
  ::fcntl(fd, F_SETPIPE_SZ, static_cast<int>(bytes));
}

DUCTILE_INLINE std::error_code read_some(int fd, char* buffer, std::size_t size, std::size_t& done) noexcept {
  for (;;) {
    const long n = attempt(call::read, [&] { return ::read(fd, buffer, size); });
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
  long n;
  do {
    n = attempt(call::write, [&] { return ::write(fd, data, size); });
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
  if (n < 0) {
    ready = 0;
    for (std::size_t i = 0; i < count; ++i) fds[i].revents = 0;
    if (errno == EINTR) return {};
    return last_error();
  }
  ready = static_cast<int>(n);
  return {};
}

DUCTILE_INLINE std::error_code make_event(unsigned int initial, unique_fd& out) noexcept {
  const long fd = attempt(call::event, [&] { return ::eventfd(initial, EFD_CLOEXEC | EFD_NONBLOCK); });
  if (fd < 0) return last_error();
  out.reset(keep_above_stdio(static_cast<int>(fd)));
  return {};
}

DUCTILE_INLINE void signal_event(int fd) noexcept {
  const std::uint64_t one = 1;
  // EAGAIN means the counter is full: it is readable, which is all that matters.
  while (attempt(call::write, [&] { return ::write(fd, &one, sizeof one); }) < 0 && errno == EINTR) {
  }
}

DUCTILE_INLINE void drain_event(int fd) noexcept {
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

DUCTILE_INLINE void signal_group(pid_t group, int signal) noexcept { ::kill(-group, signal); }

// MADV_POPULATE_WRITE (Linux 5.14), spelled out for older headers.
inline constexpr int populate_write = 23;

DUCTILE_INLINE void advise_huge_pages(void* data, std::size_t size) noexcept {
  const auto begin = reinterpret_cast<std::uintptr_t>(data);
  const std::uintptr_t first = (begin + huge_page - 1) & ~(huge_page - 1);
  const std::uintptr_t last = (begin + size) & ~(huge_page - 1);
  if (last > first) ::madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
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

DUCTILE_INLINE thread_signals_blocked::thread_signals_blocked() noexcept {
  sigset_t all;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &previous_);
}

DUCTILE_INLINE thread_signals_blocked::~thread_signals_blocked() {
  ::pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
}

}  // namespace ductile::detail::sys
