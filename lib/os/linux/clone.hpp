#pragma once
// The one way this library makes a child: clone with every signal blocked,
// the child running child_main on a prepared plan, and its report collected
// through one channel (shared memory or a pipe, see child_message).

#include <sys/types.h>

#include <system_error>

#include "os/descriptor.hpp"
#include "os/linux/child.hpp"

namespace ductile::detail {

enum class clone_mode {
  // The child borrows the parent's memory and a stack of its own until exec
  // (CLONE_VM | CLONE_VFORK): the cheap path, and the usual one.
  shared_memory,
  // The child gets a copy of the memory, the parent still waits for its exec
  // (CLONE_VFORK): for ThreadSanitizer, which cannot follow a shared one.
  copied_memory,
  // start_detached: the child forks the daemon and exits, so it cannot share
  // memory, and the parent waits for its report instead of its exec.
  daemon,
};

// How the build spawns ordinary children.
clone_mode spawn_clone_mode() noexcept;

// Whether this kernel gives usable pidfds, as the first spawn found out.
enum class pidfd_support : int { unknown, present, absent };
pidfd_support pidfds() noexcept;

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

struct cloned_child {
  process_handle process;      // a daemon: only its pid (0 if it never started), not our child
  std::error_code error;       // the clone failed:
  const char* step = nullptr;  //   spawn_error's step
  const char* what = nullptr;  //   and what could not be done ("make a pipe")
};

// Clones a child that runs child_main(plan) and fills `report` with what it
// said. A child that reported a failure has exited and is reaped here. Never
// throws; touches neither errno nor the signal mask of the caller.
cloned_child clone_child(child_plan& plan, child_report& report, clone_mode mode) noexcept;

}  // namespace ductile::detail
