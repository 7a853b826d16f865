#pragma once
// The one way this library makes a child, whatever the backend: the child
// runs a prepared plan and its report is collected through one channel
// (shared memory or a pipe, see child_message). lib/os/linux/clone.cpp makes
// it with clone; lib/os/posix/start_child.cpp with posix_spawn or fork.

#include <memory>
#include <string>
#include <system_error>

#include "os/child_plan.hpp"
#include "os/descriptor.hpp"

namespace ductile::detail {

enum class start_mode {
  // The child borrows the parent's memory and a stack of its own until exec
  // (CLONE_VM | CLONE_VFORK): the cheap path, and the usual one on Linux.
  shared_memory,
  // The child gets a copy of the memory, the parent still waits for its exec
  // (CLONE_VFORK): for ThreadSanitizer, which cannot follow a shared one, and
  // what fork gives on other systems.
  copied_memory,
  // start_detached: the child forks the daemon and exits, so it cannot share
  // memory, and the parent waits for its report instead of its exec.
  daemon,
};

// How the build starts ordinary children.
start_mode usual_start_mode() noexcept;

// Whether this kernel gives usable pidfds, as the first spawn found out.
// Always absent in the POSIX backend.
enum class pidfd_support : int { unknown, present, absent };
pidfd_support pidfds() noexcept;

struct started_child {
  process_handle process;      // a daemon: only its pid (0 if it never started), not our child
  std::error_code error;       // the start failed:
  const char* step = nullptr;  //   spawn_error's step
  const char* what = nullptr;  //   and what could not be done ("make a pipe")
  // Or, where it names an argument, this instead of `what` (a pointer: most
  // starts succeed, and an empty one costs them nothing).
  std::unique_ptr<std::string> explanation;
};

// Starts a child that runs `plan` and fills `report` with what it said. A
// child that reported a failure has exited and is reaped here. Never throws;
// touches neither errno nor the signal mask of the caller.
started_child start_child(child_plan& plan, child_report& report, start_mode mode) noexcept;

// Reads a child's messages from `fd` until end of file (its exec or its exit)
// into `report`: for children that report over a pipe.
void read_child_reports(int fd, child_report& report) noexcept;

}  // namespace ductile::detail
