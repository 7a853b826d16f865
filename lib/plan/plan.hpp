#pragma once
// Lowering: a recursive walk of the tree that carries a context, handed
// down by move (each call owns the one it gets, copied only where the tree
// branches), so a chain of modifiers makes no copy of it.
// Outer modifiers are applied first, so the innermost one wins, as in a shell.
// Apart from opening redirect files and making pipes this is pure: it spawns
// nothing, so it is tested on its own.

#include <sys/types.h>

#include <array>
#include <chrono>
#include <ductile/output.hpp>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/tree.hpp"
#include "os/system_calls.hpp"

namespace ductile::detail {

// A descriptor a child's 0, 1 or 2 comes from. `owner` is null for the parent's
// own 0/1/2, which the library borrows and never closes.
struct stdio_target {
  int fd = -1;
  std::shared_ptr<const unique_fd> owner;
};

using hook_list = std::vector<spawn_hook_function>;

// The pseudo-terminal of a pty() subtree: its first process makes it its
// controlling terminal.
struct terminal_slot {
  std::shared_ptr<const unique_fd> slave;
  bool adopted = false;
};

// What lowering needs from the run it belongs to: the pipes the event loop serves.
class stream_sink {
 public:
  virtual ~stream_sink() = default;
  // The write end of the run's capture pipe for stdout or stderr.
  virtual stdio_target capture(stdio stream) = 0;
  // A new pipe whose bytes are captured and also forwarded to `forward`.
  virtual stdio_target tee(stdio stream, stdio_target forward) = 0;
  // The read end of a pipe the event loop fills with `bytes`.
  virtual stdio_target feed(std::shared_ptr<const std::string> bytes) = 0;
  // The write end of a pipe whose lines the run passes to `fn`.
  virtual stdio_target lines(stdio stream, line_function fn) = 0;
  // The read end of the pipe the caller writes through input().
  virtual stdio_target caller_pipe() = 0;
  // A new pseudo-terminal whose output goes to `output` and which is typed
  // what `input` carries (unless that is the parent's own stdin). Returns the
  // slave, which also stays in `terminal` for the first process to adopt.
  virtual stdio_target terminal(const std::optional<pty_size>& size, stdio_target input, stdio_target output,
                                std::shared_ptr<terminal_slot>& terminal) = 0;
  // From now on captured stdout and stderr also go, in arrival order, into
  // output::combined_bytes.
  virtual void combine() = 0;
};

// The process group a `new_process_group()` subtree shares: 0 until its first
// process has made it.
struct group_slot {
  pid_t pgid = 0;
};

// What the credential modifiers asked for; resolved in the parent at spawn.
struct credential_request {
  std::optional<user_ref> user;
  std::optional<group_ref> group;
  std::optional<std::vector<group_ref>> groups;
  std::optional<caps::set> keep;
  std::optional<caps::set> bounding;
  bool no_new_privs = false;
  std::optional<mode_t> umask;
  bool new_session = false;
  bool any() const { return user || group || groups || keep || bounding || no_new_privs || umask || new_session; }
};

class cgroup_scope;  // os/cgroup.hpp
class far_side;      // remote/far_side.hpp

// A descriptor above 2 a child receives: pass_fd().
struct passed_fd {
  int child_fd;
  stdio_target source;
};

struct context {
  std::array<stdio_target, 3> streams{stdio_target{0, nullptr}, stdio_target{1, nullptr}, stdio_target{2, nullptr}};
  std::vector<passed_fd> passed;  // by child_fd; inner modifiers replace outer ones
  std::optional<std::string> dir;
  std::shared_ptr<const environment> env;  // null: the parent's, untouched
  hook_list hooks;                         // outer first
  std::shared_ptr<group_slot> group;       // null: the parent's group
  bool kill_on_parent_exit = false;
  std::shared_ptr<terminal_slot> terminal;                // pty(): null outside one
  std::shared_ptr<cgroup_scope> cgroup;                   // own_cgroup(): null outside one
  std::shared_ptr<const credential_request> credentials;  // null: nothing asked; shared, copied on change
  std::string position;                                   // the path from the root: orders processes left to right
};

// Everything one process needs, prepared in the parent.
struct process_launch {
  process_launch() = default;
  process_launch(const command_node& command, context&& settings, const node& tree)
      : argv(command.argv), program_is_path(command.program_is_path), settings(std::move(settings)), command(&tree) {}

  // The arguments: the tree's own while they are borrowed, else `argv`.
  const argument_list& arguments() const noexcept { return borrowed_argv != nullptr ? *borrowed_argv : argv; }
  // `argv`, copied from the tree first if it was borrowed, to be changed.
  argument_list& own_arguments() {
    if (borrowed_argv != nullptr) {
      argv = *borrowed_argv;
      borrowed_argv = nullptr;
    }
    return argv;
  }

  argument_list argv;
  // A run that holds the tree for as long as the launch lives may point at the
  // command's arguments instead of copying them (lower_alone does).
  const argument_list* borrowed_argv = nullptr;
  bool program_is_path = false;
  context settings;                        // what the modifiers around it said
  std::optional<std::string> pid_file;     // start_detached only, for messages
  const node* command = nullptr;           // for error messages; the run keeps the tree alive
  std::shared_ptr<const far_side> remote;  // an on() subtree's ssh or srun process
};

struct job;

// How a finished part of the tree ended.
struct job_result {
  exit_status status;
  bool failed = false;              // non-zero and checked
  bool timed_out = false;           // a timeout() around it fired
  const job* decided_by = nullptr;  // the process whose status this is, if one
};

using steady_time = std::chrono::steady_clock::time_point;

// The timer of one timeout() subtree.
struct time_limit_state {
  std::chrono::nanoseconds duration;
  std::chrono::nanoseconds grace;
  steady_time deadline;
  bool fired = false;
  steady_time kill_at;
  bool killed = false;
};

// The launch plan: the tree's shape with everything opened. A `then` keeps its
// right side unlowered until the left has finished, so its files are opened
// only if it runs, as in a shell. Every leaf and timeout is checked; an
// `unchecked` scope clears the failure of the result that passes up through
// it, so a failure inside still stops a `then` inside (duct's rule).
struct job {
  enum class kind { process, pipe, then, scope, unchecked, accept, contained };
  kind type = kind::process;
  job* parent = nullptr;
  std::unique_ptr<job> left;
  std::unique_ptr<job> right;
  std::string position;

  // process: consumed when spawned
  std::optional<process_launch> launch;
  int process_index = -1;
  const node* command = nullptr;  // for naming the stage that failed

  // accept: ok_codes() around `left`
  std::vector<int> ok_codes;

  // then: the right side and its context, until started or abandoned
  // (Held apart: inline, it would make every job too large for the
  // allocator's per-thread cache.)
  std::shared_ptr<const node> deferred;
  std::unique_ptr<context> deferred_context;

  // scope: a timeout() around `left`
  std::optional<time_limit_state> limit;

  // contained: an own_cgroup() around `left`
  std::shared_ptr<cgroup_scope> cgroup;

  bool finished = false;
  job_result result;
};

// Takes `ctx` over. Throws spawn_error when a redirect cannot be opened.
std::unique_ptr<job> lower(const node& tree, context&& ctx, stream_sink& sink);

// Whether `tree` lowers to one process that needs nothing from a run: a
// command under modifiers that only set up its launch (and unchecked()),
// with nothing to capture, feed, time, contain or hook.
bool runs_alone(const node& tree) noexcept;
// Fills `launch` (default-made) as lower() would for such a tree, borrowing
// the command's arguments from it, and says whether its status is checked.
// Opens its redirect files, as lower() does.
void lower_alone(const node& tree, bool& checked, process_launch& launch);

// The environment a context gives its children, as a map.
environment snapshot_environment(const context& ctx);

// A subtree as `sh` text, for error messages.
std::string subtree_text(const node& tree);

}  // namespace ductile::detail
