#pragma once
// The job tree of one run: how results pass up through pipes, sequences,
// timeouts and unchecked scopes. Evaluating it spawns and signals nothing: it
// says what is due (a right side of `then` to start, a scope to signal) and
// the execution carries that out, so user code (the hooks of a right side)
// never runs inside an evaluation step.

#include <memory>
#include <optional>
#include <vector>

#include "plan/plan.hpp"

namespace ductile::detail {

// A timeout() scope whose processes are to get `signal`.
struct scope_signal {
  const job* scope;
  int signal;
};

class job_tree {
 public:
  void plant(std::unique_ptr<job> root) noexcept { root_ = std::move(root); }
  job* root() noexcept { return root_.get(); }
  bool planted() const noexcept { return root_ != nullptr; }
  bool finished() const noexcept { return root_ && root_->finished; }
  const job_result& result() const noexcept { return root_->result; }

  // A timeout() scope's clock starts when its subtree starts.
  void enter_scope(job& scope);
  // `j` ended with `result`: passes it up, and queues the right side of a
  // `then` whose left side succeeded, unless `stopping` (the run was killed
  // or failed: nothing new starts).
  void complete(job& j, job_result result, bool stopping);
  // Ends the parts of `j` that never started (killed before their turn, or
  // their start failed) with `never_started`, so that the tree can finish.
  void finish_unstarted(job& j, exit_status never_started);

  // --- timers
  std::optional<steady_time> next_deadline() const;
  // Fires the timeouts due at `now`: each queues its scope's signal.
  void run_timers(steady_time now);
  bool has_timers() const noexcept { return !limits_.empty(); }

  // --- what is due, oldest first; the execution takes it
  std::vector<job*> right_sides_due;
  std::vector<scope_signal> signals_due;
  std::vector<job*> cgroups_ended;  // own_cgroup() scopes whose processes have all exited

 private:
  bool inside_fired_scope(const job& j) const noexcept;

  std::unique_ptr<job> root_;
  std::vector<job*> limits_;  // timeout() scopes, in the order they started
};

}  // namespace ductile::detail
