#pragma once
// What the parent prepares for a new child and what the child reports back:
// plain data, the same for every backend (lib/os/linux/, lib/os/posix/).

#include <sys/types.h>

#include <cstddef>

#include "common.hpp"
#include "os/child_credentials.hpp"

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
  exec,
  pass_fds,
  parent_death,
  terminal,
  cgroup,
  descriptor_table,  // never shown: the parent clones again without sharing its table
};

// A descriptor the child receives above 2: `source` in the parent becomes `target`.
struct fd_move {
  int source;
  int target;
};
// Bounds the child's bookkeeping, which lives on its stack.
inline constexpr std::size_t most_passed_fds = 64;

struct daemon_settings {
  const char* pid_file = nullptr;  // nullptr: none
};

// What the child tells the parent. A child sharing the parent's memory writes
// into the parent's child_report directly (the parent is suspended until the
// exec); any other child (a daemon, every child of a ThreadSanitizer build)
// sends child_messages over a close-on-exec pipe that the parent reads until
// end of file, which comes at the exec or the exit.
struct child_message {
  enum class kind : int { failed, made_group, daemon_started };
  kind what = kind::failed;
  child_step step = child_step::none;
  int error = 0;
  pid_t pid = 0;  // daemon_started: the daemon's pid
};

struct child_report {
  child_step step = child_step::none;
  int error = 0;
  bool made_group = false;  // the child leads a new process group
  pid_t daemon = 0;         // the daemon a detached start made

  DUCTILE_HIDDEN void record(const child_message& message) noexcept {
    switch (message.what) {
      case child_message::kind::failed:
        step = message.step;
        error = message.error;
        break;
      case child_message::kind::made_group: made_group = true; break;
      case child_message::kind::daemon_started: daemon = message.pid; break;
    }
  }
};

// Whether the backend's child can look PATH up in the environment it
// inherits (plan.search_inherited_path), sparing the parent a getenv().
inline constexpr bool child_reads_inherited_path = DUCTILE_LINUX_BACKEND != 0;

// Plain data prepared entirely in the parent; the child only reads it.
struct child_plan {
  const char* const* argv = nullptr;
  const char* const* envp = nullptr;
  const char* program = nullptr;      // a path, or a name looked up in search_path
  const char* search_path = nullptr;  // PATH's value; nullptr: run `program` as a path
  // Instead of search_path: the PATH of envp, the parent's environ, read by
  // the child itself (as glibc's posix_spawnp does), or /bin:/usr/bin.
  // Only where child_reads_inherited_path.
  bool search_inherited_path = false;
  const char* dir = nullptr;        // nullptr: stay in the parent's directory
  int stdio[3] = {0, 1, 2};         // source of each of 0, 1, 2; equal means untouched
  const fd_move* passed = nullptr;  // pass_fd(): at most most_passed_fds
  std::size_t passed_count = 0;
  pid_t process_group = -1;       // -1: the parent's; 0: a new one; else join it
  pid_t die_with = 0;             // kill_on_parent_exit(): the parent's pid, else 0
  int controlling_terminal = -1;  // pty(): lead a new session with this terminal
  int cgroup_directory = -1;      // own_cgroup(): entered at clone where the kernel can
  int cgroup_procs = -1;          // ...else the child writes its pid here
  bool cgroup_entered_at_clone = false;
  bool shares_descriptor_table = false;            // cloned with CLONE_FILES: take a private table first
  const child_credentials* credentials = nullptr;  // nullptr: unchanged
  const daemon_settings* daemon = nullptr;         // set by start_detached
  int report_fd = -1;                              // -1: report into `report`, in shared memory
  child_report* report = nullptr;
};

}  // namespace ductile::detail
