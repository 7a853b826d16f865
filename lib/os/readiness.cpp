// POSIX systems only: Windows has lib/os/windows/.
#ifndef _WIN32
#include "os/readiness.hpp"

#include <algorithm>
#include <cerrno>

#include "common.hpp"
#include "os/attempt.hpp"

#if DUCTILE_LINUX_BACKEND
#include <sys/epoll.h>
#include <time.h>

static_assert(EPOLLIN == POLLIN && EPOLLOUT == POLLOUT && EPOLLERR == POLLERR && EPOLLHUP == POLLHUP,
              "epoll reports readiness in poll()'s bits");
#endif

namespace ductile::detail::sys {

DUCTILE_INLINE std::error_code readiness_set::open() noexcept {
#if DUCTILE_LINUX_BACKEND
  const long fd = attempt(call::event, [] { return ::epoll_create1(EPOLL_CLOEXEC); });
  if (fd < 0) return last_error();
  set_.reset(keep_above_stdio(static_cast<int>(fd)));
#endif
  return {};
}

DUCTILE_INLINE readiness_set::kernel_watch* readiness_set::kernel_watch_of(int fd) noexcept {
  if (fd < 0 || static_cast<std::size_t>(fd) >= by_fd_.size() || !by_fd_[fd].used) return nullptr;
  return &by_fd_[fd];
}

DUCTILE_INLINE void readiness_set::watch_event(const event& wake_up, std::uint32_t owner) {
  watch(wake_up.readable.get(), POLLIN, owner);
}

DUCTILE_INLINE void readiness_set::forget_event(const event& wake_up, std::uint32_t owner) noexcept {
  forget(wake_up.readable.get(), owner);
}

DUCTILE_INLINE bool readiness_set::reports(const readiness& ready, const event& wake_up) noexcept {
  return ready.fd == wake_up.readable.get();
}

DUCTILE_INLINE void readiness_set::watch(int fd, short events, std::uint32_t owner) {
#if DUCTILE_LINUX_BACKEND
  epoll_event wanted{};
  wanted.events = static_cast<std::uint32_t>(events) | EPOLLONESHOT;
  wanted.data.u64 = (std::uint64_t{owner} << 32) | static_cast<std::uint32_t>(fd);
  kernel_watch* held = kernel_watch_of(fd);
  if (held != nullptr && held->owner == owner) {
    if (held->armed && held->events == events) return;
    if (::epoll_ctl(set_.get(), EPOLL_CTL_MOD, fd, &wanted) == 0) {
      held->events = events;
      held->armed = true;
      return;
    }
    // ENOENT: the number was closed and reopened, so it is a new file.
  }
  int added = ::epoll_ctl(set_.get(), EPOLL_CTL_ADD, fd, &wanted);
  // EEXIST with no live watch on the number: a watch that was let go of
  // without a system call (see forget()) on this very file. Take it over.
  if (added != 0 && errno == EEXIST && (held == nullptr || held->owner == owner))
    added = ::epoll_ctl(set_.get(), EPOLL_CTL_MOD, fd, &wanted);
  if (added == 0) {
    if (static_cast<std::size_t>(fd) >= by_fd_.size()) by_fd_.resize(static_cast<std::size_t>(fd) + 1);
    by_fd_[fd] = kernel_watch{owner, events, true, true};
    forget_polled(fd, owner);
    return;
  }
  // EEXIST: another owner watches this very file (one stdout teed by two
  // runs); EPERM: a regular file; ENOSPC: the user's limit on watches.
  if (held != nullptr && held->owner == owner) held->used = false;
#endif
  watch_polled(fd, events, owner);
}

DUCTILE_INLINE void readiness_set::watch_polled(int fd, short events, std::uint32_t owner) {
  for (auto& p : polled_) {
    if (p.fd == fd && p.owner == owner) {
      p.events = events;
      return;
    }
  }
  polled_.push_back(polled_watch{fd, events, owner});
}

DUCTILE_INLINE void readiness_set::forget_polled(int fd, std::uint32_t owner) noexcept {
  polled_.erase(std::remove_if(polled_.begin(), polled_.end(),
                               [&](const polled_watch& p) { return p.fd == fd && p.owner == owner; }),
                polled_.end());
}

DUCTILE_INLINE void readiness_set::forget(int fd, std::uint32_t owner) noexcept {
  // No EPOLL_CTL_DEL: the descriptor may be closed by now and its number
  // reused by another thread. A closed file leaves the kernel's set by
  // itself; one still open fires at most once more (one-shot), to nobody.
  if (kernel_watch* held = kernel_watch_of(fd); held != nullptr && held->owner == owner) held->used = false;
  forget_polled(fd, owner);
}

#if DUCTILE_LINUX_BACKEND
DUCTILE_INLINE std::error_code readiness_set::wait_kernel(int milliseconds, std::vector<readiness>& ready) {
  epoll_event events[256];
  const long n = attempt(call::poll, [&] { return ::epoll_wait(set_.get(), events, 256, milliseconds); });
  if (n < 0) return errno == EINTR ? std::error_code() : last_error();
  for (long i = 0; i < n; ++i) {
    const auto owner = static_cast<std::uint32_t>(events[i].data.u64 >> 32);
    const auto fd = static_cast<int>(static_cast<std::uint32_t>(events[i].data.u64));
    if (kernel_watch* held = kernel_watch_of(fd); held != nullptr && held->owner == owner) held->armed = false;
    ready.push_back(readiness{owner, fd, static_cast<short>(events[i].events)});
  }
  return {};
}
#endif

DUCTILE_INLINE std::error_code readiness_set::wait(std::chrono::nanoseconds timeout, std::vector<readiness>& ready) {
  poll_list_.clear();
#if DUCTILE_LINUX_BACKEND
  // epoll_wait counts in milliseconds: a shorter wait (a child held by pid
  // is looked at after microseconds), and descriptors that must be polled,
  // go through ppoll() with the set itself as one of its descriptors.
  const bool short_wait = timeout.count() > 0 && timeout < std::chrono::milliseconds(10);
  if (polled_.empty() && !short_wait) {
    const auto milliseconds = std::chrono::ceil<std::chrono::milliseconds>(timeout).count();
    return wait_kernel(timeout.count() < 0 ? -1 : static_cast<int>(std::min<long long>(milliseconds, 1 << 30)), ready);
  }
  poll_list_.push_back(pollfd{set_.get(), POLLIN, 0});
#endif
  for (const auto& p : polled_) poll_list_.push_back(pollfd{p.fd, p.events, 0});
  int count = 0;
  if (const auto error = poll_fds(poll_list_.data(), poll_list_.size(), timeout, count)) return error;
  std::size_t first_polled = 0;
#if DUCTILE_LINUX_BACKEND
  first_polled = 1;
  if (poll_list_[0].revents != 0) {
    if (const auto error = wait_kernel(0, ready)) return error;
  }
#endif
  // One-shot here too: what was reported leaves the list until watched again
  // (POLLNVAL included: the owner learns its descriptor is gone).
  std::size_t kept = 0;
  for (std::size_t i = 0; i < polled_.size(); ++i) {
    const short happened = poll_list_[first_polled + i].revents;
    if (happened != 0) {
      ready.push_back(readiness{polled_[i].owner, polled_[i].fd, happened});
      continue;
    }
    polled_[kept++] = polled_[i];
  }
  polled_.resize(kept);
  return {};
}

}  // namespace ductile::detail::sys
#endif  // _WIN32
