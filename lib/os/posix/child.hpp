#pragma once
// The code a forked child runs before exec, in the POSIX backend.

#include <cstddef>

#include "os/child_plan.hpp"

namespace ductile::detail::posix {

// The descriptors above 2 that were open when the parent listed them: the
// child marks each close-on-exec (see start_child.cpp for how they are found).
struct open_descriptors {
  const int* fds = nullptr;
  std::size_t count = 0;
};

// Runs in the child of fork; never returns. Reports through plan.report_fd.
[[noreturn]] void run_forked_child(const child_plan& plan, open_descriptors inherited) noexcept;

// execvp's rules for a search of PATH: whether to try the next entry after
// this error of execve (EACCES is remembered, and reported if nothing else runs).
bool keeps_searching(int error) noexcept;

// The highest signal number tried when dispositions are reset: above every
// system's NSIG, which POSIX.1-2008 does not name; sigaction refuses the rest.
inline constexpr int highest_signal_tried = 128;

}  // namespace ductile::detail::posix
