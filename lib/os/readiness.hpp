#pragma once
// A set of watched descriptors that reports only those that became ready, so
// that a wait costs the events it returns and not the descriptors it holds:
// an epoll set on Linux, poll() over the whole set in the POSIX backend.
//
// Every watch is one-shot: once reported it stays quiet until watched again.
// That keeps a registration the kernel cannot take back from firing forever:
// epoll keys a registration by descriptor *and* open file, so one whose
// number was closed while another process still held the file (a child
// between clone and exec) outlives its number. Such a ghost reports at most
// once, and its owner takes a spurious wake-up (EAGAIN, a child not yet
// waitable) in its stride.

#include <chrono>
#include <cstdint>
#include <memory>
#include <system_error>
#include <vector>

#include "os/descriptor.hpp"
#include "os/event_loop.hpp"
#include "os/system_calls.hpp"

namespace ductile::detail::windows {
struct waiter;
}

namespace ductile::detail::sys {

// A descriptor that became ready, and who watched it.
struct readiness {
  std::uint32_t owner;
  int fd;
  short events;  // POLLIN, POLLOUT, POLLHUP, POLLERR, as poll() reports them
};

class readiness_set {
 public:
  std::error_code open() noexcept;
  // Watches `fd` for `events` (POLLIN and/or POLLOUT) for `owner` until it is
  // reported once. Watching it again for the same owner re-arms it with the
  // new events. The caller must hold `fd` open meanwhile (the owner's lock).
  // A descriptor the kernel will not watch (a regular file) or one another
  // owner holds (the same stdout teed twice) is polled instead: always
  // correct, only slower.
  void watch(int fd, short events, std::uint32_t owner);
  // Stops watching `fd` for `owner`; makes no system call, so `fd` may have
  // been closed meanwhile and its number reused. A report may still come
  // for it, once: owners ignore what they no longer watch.
  void forget(int fd, std::uint32_t owner) noexcept;
  // A wake-up another thread signals, watched for `owner` until reported
  // once, like a descriptor.
  void watch_event(const event& wake_up, std::uint32_t owner);
  void forget_event(const event& wake_up, std::uint32_t owner) noexcept;
  // Whether `ready` reports that wake-up.
  static bool reports(const readiness& ready, const event& wake_up) noexcept;
  // Hands what became ready to the wait list of the run that watched it;
  // whether anything there waited for it.
  static bool deliver(const readiness& ready, os::wait_list& list) noexcept {
    return list.deliver(ready.fd, ready.events);
  }
  // What an owner's wait list had watched, for follow().
  using followed = std::vector<std::pair<int, short>>;
  // Watches what `list` waits for, for `owner`, and forgets what `before`
  // held that the list no longer has; `before` then holds the list's.
  void follow(const os::wait_list& list, std::uint32_t owner, followed& before);
  // Forgets everything `before` held for `owner`.
  void forget_all(followed& before, std::uint32_t owner) noexcept;
  // Waits at most `timeout` (negative: forever) and appends what became
  // ready; EINTR returns with nothing.
  std::error_code wait(std::chrono::nanoseconds timeout, std::vector<readiness>& ready);

 private:
  struct kernel_watch {
    std::uint32_t owner = 0;
    short events = 0;
    bool armed = false;
    bool used = false;
  };
  struct polled_watch {
    int fd;
    short events;
    std::uint32_t owner;
  };
  kernel_watch* kernel_watch_of(int fd) noexcept;
  std::error_code wait_kernel(int milliseconds, std::vector<readiness>& ready);
  void watch_polled(int fd, short events, std::uint32_t owner);
  void forget_polled(int fd, std::uint32_t owner) noexcept;

  unique_fd set_;
  std::vector<kernel_watch> by_fd_;  // the epoll registrations, indexed by descriptor
  std::vector<polled_watch> polled_;
  std::vector<os::polled_stream> poll_list_;
  followed scratch_;
#ifdef _WIN32
  std::shared_ptr<windows::waiter> waiter_;  // what the completion port reports to
#endif
};

}  // namespace ductile::detail::sys
