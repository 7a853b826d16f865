// A signal loop without handlers. On Linux the signals are blocked and read
// from a signalfd, so no handler ever runs; elsewhere a handler writes the
// signal's number to a pipe (the self-pipe trick) and the loop reads that.
#ifndef _WIN32
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <ductile/daemon.hpp>
#include <system_error>
#include <vector>

#include "common.hpp"
#include "daemon/state.hpp"

#if DUCTILE_LINUX_BACKEND
#include <sys/signalfd.h>
#endif

namespace ductile::daemon {

struct signals::state {
  sigset_t set;
  sigset_t previous_mask;
  int readable = -1;  // the signalfd, or the pipe's read end
#if !DUCTILE_LINUX_BACKEND
  int writable = -1;
  std::vector<std::pair<int, struct sigaction>> previous_actions;
#endif
};

namespace detail {
DUCTILE_INLINE std::vector<int>& signal_loop_fds() {
  static std::vector<int> fds;
  return fds;
}

#if !DUCTILE_LINUX_BACKEND
// The pipe the handler writes to; one loop at a time owns it.
DUCTILE_INLINE volatile sig_atomic_t& self_pipe() noexcept {
  static volatile sig_atomic_t fd = -1;
  return fd;
}
extern "C" inline void write_signal_number(int signal) {
  const int saved = errno;
  const unsigned char number = static_cast<unsigned char>(signal);
  if (self_pipe() >= 0) (void)!::write(self_pipe(), &number, 1);
  errno = saved;
}
#endif

// Waits up to `timeout_ms` (-1: for ever) for `fd` to be readable.
DUCTILE_INLINE bool readable_within(int fd, int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    pollfd entry{fd, POLLIN, 0};
    int wait = timeout_ms;
    if (timeout_ms > 0) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      wait = static_cast<int>(std::max<std::chrono::milliseconds::rep>(0, left.count()));
    }
    const int ready = ::poll(&entry, 1, wait);
    if (ready > 0) return true;
    if (ready == 0) return false;
    if (errno != EINTR) throw std::system_error(errno, std::generic_category(), "daemon::signals: poll");
  }
}
}  // namespace detail

DUCTILE_INLINE signals::signals(std::initializer_list<int> numbers) : state_(new state) {
  sigemptyset(&state_->set);
  for (const int number : numbers)
    if (sigaddset(&state_->set, number) != 0) {
      delete state_;
      throw std::system_error(EINVAL, std::generic_category(), "daemon::signals: signal " + std::to_string(number));
    }
#if DUCTILE_LINUX_BACKEND
  state_->readable = ::signalfd(-1, &state_->set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (state_->readable < 0) {
    const int error = errno;
    delete state_;
    throw std::system_error(error, std::generic_category(), "daemon::signals: signalfd");
  }
  // Blocked, the signals wait for the signalfd instead of being delivered.
  pthread_sigmask(SIG_BLOCK, &state_->set, &state_->previous_mask);
#else
  int ends[2];
  if (::pipe(ends) != 0) {
    const int error = errno;
    delete state_;
    throw std::system_error(error, std::generic_category(), "daemon::signals: pipe");
  }
  for (const int fd : ends) {
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  }
  state_->readable = ends[0];
  state_->writable = ends[1];
  detail::signal_loop_fds().push_back(ends[1]);
  detail::self_pipe() = ends[1];
  struct sigaction action {};
  action.sa_handler = detail::write_signal_number;
  action.sa_flags = SA_RESTART;
  sigfillset(&action.sa_mask);
  for (const int number : numbers) {
    struct sigaction previous {};
    ::sigaction(number, &action, &previous);
    state_->previous_actions.emplace_back(number, previous);
  }
  pthread_sigmask(SIG_UNBLOCK, &state_->set, &state_->previous_mask);
#endif
  detail::signal_loop_fds().push_back(state_->readable);
}

DUCTILE_INLINE signals::~signals() {
  auto& live = detail::signal_loop_fds();
  live.erase(std::remove(live.begin(), live.end(), state_->readable), live.end());
#if !DUCTILE_LINUX_BACKEND
  live.erase(std::remove(live.begin(), live.end(), state_->writable), live.end());
#endif
#if DUCTILE_LINUX_BACKEND
  pthread_sigmask(SIG_SETMASK, &state_->previous_mask, nullptr);
#else
  for (const auto& [number, previous] : state_->previous_actions) ::sigaction(number, &previous, nullptr);
  detail::self_pipe() = -1;
  pthread_sigmask(SIG_SETMASK, &state_->previous_mask, nullptr);
  ::close(state_->writable);
#endif
  ::close(state_->readable);
  delete state_;
}

DUCTILE_INLINE int signals::wait() {
  for (;;)
    if (const auto signal = wait_for(std::chrono::milliseconds(-1))) return *signal;
}

DUCTILE_INLINE std::optional<int> signals::wait_for(std::chrono::milliseconds limit) {
  const int timeout = limit.count() < 0 ? -1 : static_cast<int>(std::min<long long>(limit.count(), 1 << 30));
  for (;;) {
#if DUCTILE_LINUX_BACKEND
    signalfd_siginfo info{};
    const ssize_t got = ::read(state_->readable, &info, sizeof info);
    if (got == static_cast<ssize_t>(sizeof info)) return static_cast<int>(info.ssi_signo);
#else
    unsigned char number = 0;
    const ssize_t got = ::read(state_->readable, &number, 1);
    if (got == 1) return static_cast<int>(number);
#endif
    if (got < 0 && errno != EAGAIN && errno != EINTR)
      throw std::system_error(errno, std::generic_category(), "daemon::signals: read");
    if (got < 0 && errno == EINTR) continue;
    if (!detail::readable_within(state_->readable, timeout)) return std::nullopt;
  }
}

DUCTILE_INLINE native_handle_type signals::handle() const { return state_->readable; }

}  // namespace ductile::daemon
#endif  // _WIN32
