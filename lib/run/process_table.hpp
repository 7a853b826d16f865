#pragma once
// The processes of one run: signalling, waiting and reaping through the
// platform's process handle (a pidfd on Linux). A by-pid backend replaces
// what happens behind this interface, not the run around it.

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <ductile/output.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "os/event_loop.hpp"
#include "os/system_calls.hpp"
#include "plan/plan.hpp"
#include "run/spawn.hpp"

namespace ductile::detail {

// A reaped child's record from how it ended.
void record_exit(const sys::process_exit& ended, process_record& record) noexcept;

struct tracked_process {
  process_handle process;  // its pidfd, if it has one, is closed once reaped
  bool was_reaped = false;
  job* owner = nullptr;
  pid_t group = 0;      // its own process group (new_process_group), or 0
  std::string command;  // set only while observed: for the observer's events
  steady_time started;
  process_record record;
  std::shared_ptr<const far_side> remote;  // an on() subtree's ssh or srun: its far side
  bool signalled = false;                  // the run has sent it a signal
  // When to try waitid(WNOHANG) next, backing off: for a child held by pid
  // (nothing to poll), and for one whose pidfd said "exited" but that a
  // ptrace tracer still holds (the pidfd would stay readable).
  std::optional<steady_time> retry_at;
  std::chrono::microseconds retry_delay{0};
  os::exit_watch watch;  // the loop saw it may have exited

  bool reaped() const noexcept { return was_reaped; }
};

class process_table {
 public:
  // Room first: once a process exists, recording it must not fail, or nobody
  // would kill and reap it.
  void reserve_one() { processes_.reserve(processes_.size() + 1); }
  // Records a process spawned for `owner`; call reserve_one() before spawning.
  tracked_process& add(spawned_process&& spawned, job& owner) noexcept;
  std::size_t size() const noexcept { return processes_.size(); }

  // Signals every unreaped process inside `scope` (every process if null).
  // Nothing here allocates, so a kill cannot fail half-way; only the far
  // side of an on() subtree is signalled through a new ssh command, at best.
  void signal(const job* scope, int signal) noexcept;

  // --- the event loop: what to wait for, and what happened
  void collect(os::wait_list& list);
  std::optional<steady_time> next_retry() const;
  // Reaps the processes the loop marked (once it completed the list of
  // collect()) and the due retries report as exited, and calls
  // on_reaped(tracked_process&) for each.
  template <class OnReaped>
  void dispatch(OnReaped&& on_reaped) {
    if (retries_ > 0) {
      const auto now = std::chrono::steady_clock::now();
      for (auto& p : processes_)
        if (p.retry_at && *p.retry_at <= now && !p.reaped() && reap(p)) on_reaped(p);
    }
    for (auto& p : processes_) {
      if (!std::exchange(p.watch.due, false) || p.reaped()) continue;
      if (reap(p)) on_reaped(p);
    }
  }
  // Makes every retry due now (try_wait() looks at once); whether there was any.
  bool retry_now() noexcept;
  // Waits for every unreaped process (all were sent SIGKILL).
  void reap_all_blocking() noexcept;

  // Left to right in the tree, whatever order they started in.
  std::vector<process_id> pids() const;
  // The pids not reaped yet, left to right.
  std::vector<process_id> live_pids() const;
  std::vector<process_record> records() const;

 private:
  bool reap(tracked_process& process);  // false: not ready to be reaped yet
  std::vector<const tracked_process*> in_tree_order() const;

  std::vector<tracked_process> processes_;
  std::size_t retries_ = 0;  // processes waiting for a reap retry
};

}  // namespace ductile::detail
