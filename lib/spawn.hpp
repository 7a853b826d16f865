#pragma once
// Spawning one process of a launch plan: hooks, program lookup and the
// argument and environment arrays are prepared in the parent; then one clone.

#include <sys/types.h>

#include <string>

#include "lower.hpp"

namespace ductile::detail {

struct spawned_process {
  pid_t pid = -1;
  unique_fd pidfd;
  std::string program;      // argv[0] as executed
  pid_t process_group = 0;  // the group it was put in, or 0 for the parent's
};

// Throws spawn_error (nothing of the process ran), or whatever a hook throws.
spawned_process spawn_process(process_launch launch);

}  // namespace ductile::detail
