#pragma once
// The processes of one run: signalling, waiting and reaping through the
// platform's process handle (a pidfd on Linux). A by-pid backend replaces
// what happens behind this interface, not the run around it.

#include <poll.h>
#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <ductile/output.hpp>
#include <optional>
#include <string>
#include <vector>

#include "os/linux/spawn.hpp"
#include "plan/plan.hpp"

namespace ductile::detail {

struct tracked_process {
  unique_fd pidfd;  // reset once reaped
  job* owner = nullptr;
  pid_t group = 0;      // its own process group (new_process_group), or 0
  std::string command;  // set only while observed: for the observer's events
  steady_time started;
  process_record record;
  // The pidfd said "exited" but waitid found nothing to reap (a ptrace tracer
  // holds the dead child): instead of polling the always-readable pidfd,
  // retry at this time, backing off.
  std::optional<steady_time> retry_at;
  std::chrono::milliseconds retry_delay{0};

  bool reaped() const noexcept { return !pidfd; }
};

class process_table {
 public:
  // Room first: once a process exists, recording it must not fail, or nobody
  // would kill and reap it.
  void reserve_one() { processes_.reserve(processes_.size() + 1); }
  // Records a process spawned for `owner`; call reserve_one() before spawning.
  tracked_process& add(spawned_process&& spawned, job& owner) noexcept;
  tracked_process& operator[](std::size_t index) noexcept { return processes_[index]; }

  // Signals every unreaped process inside `scope` (every process if null).
  // Nothing here allocates, so a kill cannot fail half-way.
  void signal(const job* scope, int signal) noexcept;

  // --- the event loop: what to wait for, and what happened
  void collect(std::vector<pollfd>& fds);
  std::optional<steady_time> next_retry() const;
  // Reaps the processes `fds` (from collect()) and the due retries report as
  // exited; appends the index of each one reaped to `reaped`.
  void dispatch(const pollfd* fds, std::size_t count, std::vector<std::size_t>& reaped);
  // Waits for every unreaped process (all were sent SIGKILL).
  void reap_all_blocking() noexcept;

  // Left to right in the tree, whatever order they started in.
  std::vector<pid_t> pids() const;
  std::vector<process_record> records() const;

 private:
  bool reap(tracked_process& process);  // false: not ready to be reaped yet
  std::vector<const tracked_process*> in_tree_order() const;

  std::vector<tracked_process> processes_;
  std::vector<std::size_t> polled_;  // which process each collected descriptor is
  std::size_t retries_ = 0;          // processes waiting for a reap retry
};

}  // namespace ductile::detail
