#pragma once
// The code that runs in a new child between clone and exec.

#include "os/child_plan.hpp"

namespace ductile::detail {

// The size of the kernel's signal set (64 signals), for the raw rt_sigprocmask.
inline constexpr long kernel_sigset_size = 8;

// The kernel's struct sigaction, for the raw rt_sigaction.
struct kernel_sigaction {
  void* handler;
  unsigned long flags;
  void* restorer;
  unsigned long mask[2];
};

// Entry point of the child; never returns.
DUCTILE_HIDDEN int child_main(void* plan) noexcept;

}  // namespace ductile::detail
