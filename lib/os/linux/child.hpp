#pragma once
// The code that runs in a new child between clone and exec.

#include <sys/types.h>

#include <cstddef>

#include "common.hpp"

namespace ductile::detail {

enum class child_step : int {
  none = 0,
  process_group,
  stdio,
  close_descriptors,
  session,
  keep_caps,
  inheritable,
  bounding,
  setgroups,
  setresgid,
  setresuid,
  capset,
  ambient,
  no_new_privs,
  fork,
  pid_file,
  chdir,
  exec
};

// A daemon's child cannot share memory with the caller (it forks again), so
// it reports over a close-on-exec pipe: the daemon's pid first, then either a
// failure or, at a successful exec, end of file.
struct daemon_settings {
  int report_fd = -1;
  const char* pid_file = nullptr;  // nullptr: none
};
struct daemon_message {
  int kind = 0;  // 0: the daemon's pid, 1: a failure
  int step = 0;
  int error = 0;
  int pid = 0;
};

struct child_credentials;

// Written by the child into memory it shares with the parent (CLONE_VM), read
// by the parent after clone returns: the parent stays suspended (CLONE_VFORK)
// until the child has exec'd or exited, so no pipe is needed.
struct child_report {
  child_step step = child_step::none;
  int error = 0;
  bool made_group = false;  // the child leads a new process group
};

// Plain data prepared entirely in the parent; the child only reads it.
struct child_plan {
  const char* const* argv = nullptr;
  const char* const* envp = nullptr;
  const char* program = nullptr;                   // a path, or a name looked up in search_path
  const char* search_path = nullptr;               // PATH's value; nullptr: run `program` as a path
  const char* dir = nullptr;                       // nullptr: stay in the parent's directory
  int stdio[3] = {0, 1, 2};                        // source of each of 0, 1, 2; equal means untouched
  pid_t process_group = -1;                        // -1: the parent's; 0: a new one; else join it
  const child_credentials* credentials = nullptr;  // nullptr: unchanged
  const daemon_settings* daemon = nullptr;         // set by start_detached
  int report_fd = -1;                              // without a shared address space, reports go here too
  child_report* report = nullptr;
};

// Entry point of the child; never returns.
DUCTILE_HIDDEN int child_main(void* plan) noexcept;

}  // namespace ductile::detail
