// POSIX systems only: Windows has lib/os/windows/.
#ifndef _WIN32
#include "os/system_calls.hpp"

#include "common.hpp"
#include "os/attempt.hpp"

// The POSIX backend's system calls: POSIX.1-2008 alone (this file compiles
// with -D_POSIX_C_SOURCE=200809L and no Linux header), apart from the two
// calls of os/posix/extensions.hpp.
#if DUCTILE_POSIX_BACKEND

#include <fcntl.h>
#include <pthread.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <ctime>

#include "os/posix/extensions.hpp"
#include "os/posix/fork_lock.hpp"

namespace ductile::detail::sys {

DUCTILE_INLINE std::error_code make_pipe(pipe_ends& ends) noexcept {
  // POSIX.1-2008 has no pipe2: the ends are marked close-on-exec right after,
  // while no child of this library can be started (fork_lock.hpp).
  const posix::descriptors_being_made making;
  int fds[2];
  if (attempt(call::pipe, [&] { return ::pipe(fds); }) != 0) return last_error();
  ::fcntl(fds[0], F_SETFD, FD_CLOEXEC);
  ::fcntl(fds[1], F_SETFD, FD_CLOEXEC);
  ends.read.reset(keep_above_stdio(fds[0]));
  ends.write.reset(keep_above_stdio(fds[1]));
  return {};
}

// Pipe sizes are the system's: POSIX has no way to ask for more.
DUCTILE_INLINE void resize_pipe(int, std::size_t) noexcept {}

// POSIX's waits with a finer timeout than poll's milliseconds: a child held
// by pid is first looked at 250 us after it starts, and a millisecond there
// is most of the cost of a short command. Nothing to watch: nanosleep.
// Descriptors below FD_SETSIZE: pselect. Returns false where neither fits.
DUCTILE_INLINE bool wait_finely(pollfd* fds, std::size_t count, std::chrono::nanoseconds timeout, long& n) noexcept {
  timespec limit{};
  limit.tv_sec = static_cast<time_t>(timeout.count() / 1000000000);
  limit.tv_nsec = static_cast<long>(timeout.count() % 1000000000);
  if (count == 0) {
    n = attempt(call::poll, [&] { return ::nanosleep(&limit, nullptr); });
    return true;
  }
  fd_set readable, writable;
  FD_ZERO(&readable);
  FD_ZERO(&writable);
  int highest = -1;
  for (std::size_t i = 0; i < count; ++i) {
    if (fds[i].fd < 0) continue;
    if (fds[i].fd >= FD_SETSIZE) return false;
    if ((fds[i].events & POLLIN) != 0) FD_SET(fds[i].fd, &readable);
    if ((fds[i].events & POLLOUT) != 0) FD_SET(fds[i].fd, &writable);
    if (fds[i].fd > highest) highest = fds[i].fd;
  }
  n = attempt(call::poll, [&] { return ::pselect(highest + 1, &readable, &writable, nullptr, &limit, nullptr); });
  if (n < 0) return errno != EBADF;  // a closed descriptor: poll says which, with POLLNVAL
  // pselect counts set bits; poll counts descriptors with events.
  n = 0;
  for (std::size_t i = 0; i < count; ++i) {
    fds[i].revents = 0;
    if (fds[i].fd < 0) continue;
    if (FD_ISSET(fds[i].fd, &readable)) fds[i].revents |= POLLIN;
    if (FD_ISSET(fds[i].fd, &writable)) fds[i].revents |= POLLOUT;
    if (fds[i].revents != 0) ++n;
  }
  return true;
}

DUCTILE_INLINE std::error_code poll_fds(pollfd* fds, std::size_t count, std::chrono::nanoseconds timeout,
                                        int& ready) noexcept {
  long n = 0;
  const bool whole_milliseconds = timeout.count() < 0 || timeout.count() % 1000000 == 0;
  if (whole_milliseconds || !wait_finely(fds, count, timeout, n)) {
    int milliseconds = -1;
    if (timeout.count() >= 0) {
      const auto rounded = std::chrono::ceil<std::chrono::milliseconds>(timeout).count();
      milliseconds = rounded > 1000 * 1000 * 1000 ? 1000 * 1000 * 1000 : static_cast<int>(rounded);
    }
    n = attempt(call::poll, [&] { return ::poll(fds, static_cast<nfds_t>(count), milliseconds); });
  }
  return poll_outcome(n, fds, count, ready);
}

DUCTILE_INLINE std::error_code make_event(unsigned int initial, event& out) noexcept {
  if (const int fault = injected_fault(call::event)) return std::error_code(fault, std::generic_category());
  pipe_ends ends;
  if (const auto error = make_pipe(ends)) return error;
  set_nonblocking(ends.read.get());
  set_nonblocking(ends.write.get());
  out.readable = std::move(ends.read);
  out.writer = std::move(ends.write);
  if (initial > 0) signal_event(out);
  return {};
}

DUCTILE_INLINE void signal_event(const event& target) noexcept {
  const char byte = 1;
  // EAGAIN means the pipe is full: it is readable, which is all that matters.
  while (attempt(call::write, [&] { return ::write(target.writer.get(), &byte, 1); }) < 0 && errno == EINTR) {
  }
}

DUCTILE_INLINE void drain_event(const event& target) noexcept {
  char bytes[64];
  for (;;) {
    const long n = attempt(call::read, [&] { return ::read(target.readable.get(), bytes, sizeof bytes); });
    if (n > 0 || (n < 0 && errno == EINTR)) continue;
    return;
  }
}

DUCTILE_INLINE std::error_code wait_process(const process_handle& child, siginfo_t& info, int options,
                                            rusage* usage) noexcept {
  for (;;) {
    int status = 0;
    const long rc = attempt(call::waitid, [&] {
      return posix::wait_for_child(child.pid, status, (options & WNOHANG) != 0 ? WNOHANG : 0, usage);
    });
    if (rc == 0) {
      info.si_pid = 0;  // WNOHANG, still running
      return {};
    }
    if (rc > 0) {
      info.si_pid = child.pid;
      if (WIFEXITED(status)) {
        info.si_code = CLD_EXITED;
        info.si_status = WEXITSTATUS(status);
      } else {
        info.si_code = posix::dumped_core(status) ? CLD_DUMPED : CLD_KILLED;
        info.si_status = WTERMSIG(status);
      }
      return {};
    }
    if (errno != EINTR) return last_error();
  }
}

DUCTILE_INLINE void reap_now(const process_handle& child) noexcept {
  int status = 0;
  while (::waitpid(child.pid, &status, 0) < 0 && errno == EINTR) {
  }
}

// Safe while the child is unreaped: its pid cannot be reused before we reap it.
DUCTILE_INLINE void signal_process(const process_handle& child, int signal) noexcept {
  if (child.pid > 0) ::kill(child.pid, signal);
}

// Memory advice is Linux's: here the pages are faulted as they are written.
DUCTILE_INLINE void advise_huge_pages(void*, std::size_t) noexcept {}
DUCTILE_INLINE void prefault(void*, std::size_t) noexcept {}

}  // namespace ductile::detail::sys

#endif  // DUCTILE_POSIX_BACKEND
#endif  // _WIN32
