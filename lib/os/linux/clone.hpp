#pragma once
// Linux's start_child (lib/os/start_child.hpp): clone with every signal
// blocked, the child running child_main on the prepared plan.

#include "os/linux/child.hpp"
#include "os/start_child.hpp"

namespace ductile::detail {

// Blocks the signals of the calling thread, the C library's own included
// (pthread_sigmask would leave those), for as long as it lives: no handler
// of the parent may run in a child before it has reset its dispositions.
// All of them, but SIGCHLD when nothing handles it: a SIGCHLD that arrives
// for another child while this thread waits for the new one's exec is then
// discarded, rather than kept for the next thread of the host that takes it.
class signals_blocked_for_clone {
 public:
  signals_blocked_for_clone() noexcept;
  ~signals_blocked_for_clone();
  signals_blocked_for_clone(const signals_blocked_for_clone&) = delete;
  signals_blocked_for_clone& operator=(const signals_blocked_for_clone&) = delete;

 private:
  unsigned long previous_[2] = {0, 0};
};

}  // namespace ductile::detail
