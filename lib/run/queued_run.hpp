#pragma once
// A run a pool has accepted: made now, started when a slot frees, or never.

#include <memory>

#include "run/execution.hpp"

namespace ductile::detail {

class queued_run {
 public:
  explicit queued_run(std::shared_ptr<execution> run) noexcept : run_(std::move(run)) {}

  // Starts the run on the background thread unless it was cancelled
  // meanwhile. A run that cannot start (no background thread, a spawn error)
  // finishes with that failure. Either way, a run that has finished by the
  // time this returns has called its on_finished callback.
  void launch();
  // The pool stops: a run not started yet is cancelled (a launch racing with
  // the stop never starts it), a running one gets SIGKILL, not waited for.
  void stop() { run_->request_kill(); }

  const std::shared_ptr<execution>& run() const noexcept { return run_; }

 private:
  std::shared_ptr<execution> run_;
};

}  // namespace ductile::detail
