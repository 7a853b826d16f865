#pragma once
// Helpers for the files of lib/os/ that make system calls: the fault seam
// and the meaning of a poll's answer.

#include <cerrno>

#include "os/system_calls.hpp"

namespace ductile::detail::sys {

// Makes the call unless a fault is injected, in which case errno is set as the
// failing call would have set it.
template <class Call>
inline long attempt(call which, Call&& make_call) noexcept {
  if (const int fault = injected_fault(which)) {
    errno = fault;
    return -1;
  }
  return static_cast<long>(make_call());
}

// What a poll returned `n` means: EINTR is a wake-up with no events.
inline std::error_code poll_outcome(long n, os::polled_stream* fds, std::size_t count, int& ready) noexcept {
  if (n < 0) {
    ready = 0;
    for (std::size_t i = 0; i < count; ++i) fds[i].revents = 0;
    if (errno == EINTR) return {};
    return last_error();
  }
  ready = static_cast<int>(n);
  return {};
}

}  // namespace ductile::detail::sys
