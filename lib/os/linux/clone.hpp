#pragma once
// Linux's start_child (lib/os/start_child.hpp): clone with every signal
// blocked, the child running child_main on the prepared plan.

#include "os/linux/child.hpp"
#include "os/start_child.hpp"

namespace ductile::detail {

// Blocks every signal of the calling thread, the C library's own included
// (pthread_sigmask would leave those), for as long as it lives: no handler
// of the parent may run in a child before it has reset its dispositions.
class all_signals_blocked {
 public:
  all_signals_blocked() noexcept;
  ~all_signals_blocked();
  all_signals_blocked(const all_signals_blocked&) = delete;
  all_signals_blocked& operator=(const all_signals_blocked&) = delete;

 private:
  unsigned long previous_[2] = {0, 0};
};

}  // namespace ductile::detail
