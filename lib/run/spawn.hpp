#pragma once
// Spawning one process of a launch plan: hooks, program lookup and the
// argument and environment arrays are prepared in the parent; then one start_child.

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "os/child_plan.hpp"
#include "os/start_child.hpp"
#include "plan/credentials.hpp"
#include "plan/plan.hpp"

namespace ductile::detail {

struct spawned_process {
  process_handle process;
  std::string program;      // argv[0] as executed
  pid_t process_group = 0;  // the group it was put in, or 0 for the parent's
};

// Everything the child will read, kept alive and unmoved while it runs.
struct prepared_spawn {
  process_launch launch;
  std::string program;
  bool searched_path = false;
  std::string exec_path;  // a relative path made absolute (when `dir` is set), else empty
  // argv as the child sees it: in place for short command lines, else on the heap.
  const char* argv_inline[16] = {};
  std::vector<const char*> argv_heap;
  std::vector<std::string> env_entries;
  std::vector<const char*> envp;
  std::vector<fd_move> passed;
  std::unique_ptr<resolved_credentials> credentials;  // null: nothing changes
  child_report report;
  child_plan plan;

  prepared_spawn() = default;
  prepared_spawn(const prepared_spawn&) = delete;
  prepared_spawn& operator=(const prepared_spawn&) = delete;
  std::string command_text() const;
  // Throws the spawn_error for what the child reported.
  [[noreturn]] void throw_failure() const;
  // Throws the spawn_error for a start that failed, or a child that reported a failure.
  void throw_if_failed(const started_child& child) const;
};

// Runs the hooks (user code: never with a lock held), resolves the program
// and the credentials, and fills `out`. Throws whatever a hook throws, or
// spawn_error for a name that cannot be resolved.
void prepare_spawn(process_launch&& launch, prepared_spawn& out);
// The same for a launch already made in out.launch.
void prepare_launch(prepared_spawn& out);

// Starts and execs what prepare_spawn made, taking its program name; runs
// no user code. Throws spawn_error (nothing of the process ran).
spawned_process spawn_prepared(prepared_spawn& prepared);

}  // namespace ductile::detail
