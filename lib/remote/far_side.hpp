#pragma once
// The far side of an on() subtree at run time: one local process (ssh, srun)
// carries the subtree's streams, and its transport knows what the run needs
// beyond that process: a way to signal what runs there, and, once the local
// process has ended, its own failures and the facts it learned (a cluster's
// job id and usage).

#include <ductile/output.hpp>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "remote/plan.hpp"

namespace ductile::detail {

// What a transport learned when its local process ended.
struct far_side_report {
  std::exception_ptr failure;      // its own failure: the run throws this instead of its status
  std::string note;                // why the far side ended, for a status_error's message
  std::optional<std::string> job;  // a cluster's job id
  std::optional<job_usage> usage;  // what that job used, where accounting answers
};

class far_side {
 public:
  far_side() = default;
  far_side(const far_side&) = delete;
  far_side& operator=(const far_side&) = delete;
  virtual ~far_side() = default;

  // Whether prepare() has work to do before the local process is spawned.
  virtual bool prepares() const noexcept { return false; }
  // Runs just before the local process is spawned (with the run's other
  // hooks); throws spawn_error naming `command`.
  virtual void prepare(const std::string& /*command*/) const {}
  // Sends `signal` to what runs on the far side, in whatever way reaches it
  // beyond the signal the local process gets. Best effort, never blocks.
  virtual void signal(int signal) const noexcept = 0;
  // Once, on the thread that drives the run, when the local process has been
  // reaped with `status`; `signalled`: the run signalled it meanwhile.
  virtual far_side_report ended(const std::string& command, const exit_status& status, bool signalled) const = 0;
};

// What lowering needs to start a far side's local process.
struct far_side_launch {
  std::shared_ptr<const far_side> side;
  // Variables the local process gets on top of its environment.
  std::vector<std::pair<std::string, std::string>> environment;
};

// The argv of the local process that runs `plan` (ssh or srun), and its far
// side. Throws spawn_error if what the transport needs here cannot be made.
far_side_launch open_far_side(const remote_plan& plan, argument_list& argv);

}  // namespace ductile::detail
