#pragma once
/// \file
/// `pool`: runs many expressions with at most N at a time, for build tools;
/// a good citizen of `make -j` (the jobserver, both ways).

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "cluster.hpp"
#include "expression.hpp"
#include "handle.hpp"
#include "remote.hpp"

namespace ductile {

namespace detail {
struct pool_state;
}

/// What a pool does when a job fails: go on like `make -k`; stop at once,
/// terminating what runs; or, like `make`, start nothing new and let the
/// running jobs finish.
enum class failure_policy { keep_going, stop, finish_running };

/// A pool's counts, as `on_progress` reports them. `done` counts failed jobs too.
struct progress {
  std::size_t queued = 0;
  std::size_t running = 0;
  std::size_t done = 0;
  std::size_t failed = 0;
  std::size_t total = 0;
};

namespace detail {
using progress_function = shared_function<void(const progress&)>;
}  // namespace detail

/// Runs submitted expressions with at most `max_parallel` running at once. All
/// pools and handles together are driven by the one shared background thread;
/// a pool of more than one job starts its jobs on launcher threads shared by
/// the process (at most one per core), never a thread per job.
class pool {
 public:
  /// Throws std::invalid_argument if `max_parallel` is 0. With failure_policy::stop
  /// a failure sends SIGTERM to each running job (to its process group if it leads
  /// one) and SIGKILL `grace` later.
  explicit pool(std::size_t max_parallel, failure_policy policy = failure_policy::keep_going,
                std::chrono::nanoseconds grace = std::chrono::seconds(5));
  /// Slots spread over machines: each job runs on the host with the most
  /// free slots (`job.on(host)`; remote::host::local() runs it here), so at
  /// most the sum of the slots run at once. A host that cannot be reached
  /// fails the jobs sent to it with spawn_error, and the policy decides what
  /// happens next. Throws std::invalid_argument for no slots or a host with 0.
  /// submit() throws std::invalid_argument for a job that cannot cross (see on()).
  pool(std::vector<std::pair<remote::host, std::size_t>> slots, failure_policy policy = failure_policy::keep_going);
  /// Jobs of a Slurm cluster: each runs as `job.on(cluster)`, at most
  /// `max_in_flight` submitted at once, and Slurm decides where and when.
  /// Progress counts jobs pending in Slurm as queued. A stop cancels pending
  /// and running jobs alike (scancel). Throws std::invalid_argument if
  /// `max_in_flight` is 0; submit() throws it for a job that cannot cross.
  pool(cluster::slurm cluster, std::size_t max_in_flight, failure_policy policy = failure_policy::keep_going);
  /// A client of the jobserver MAKEFLAGS names (`--jobserver-auth=fifo:PATH` or
  /// `R,W`): each job beyond the first runs on a token, given back when it ends
  /// however it ends. Without a jobserver, `pool(fallback_parallel)`; with one that
  /// cannot be used (descriptors make closed because the rule lacks `+`), the same
  /// after a warning on stderr. `policy` and `grace` are the other constructors'.
  /// Under a jobserver the jobserver, not `fallback_parallel`, bounds the pool.
  static pool from_jobserver(std::size_t fallback_parallel, failure_policy policy = failure_policy::keep_going,
                             std::chrono::nanoseconds grace = std::chrono::seconds(5));
  /// Cancels queued jobs and kills running ones, then reaps them.
  ~pool();
  pool(pool&&) noexcept;
  pool& operator=(pool&&) noexcept;
  pool(const pool&) = delete;
  pool& operator=(const pool&) = delete;

  /// Jobs submitted from now on find in MAKEFLAGS a jobserver holding this pool's
  /// slots (made here with `max_parallel - 1` tokens, or the one this pool is a
  /// client of), and its descriptors: a `make`, `ninja` or `cargo` among them
  /// shares the slots, and the pool's own jobs beyond the first take tokens too.
  /// Throws std::system_error if the jobserver cannot be made.
  pool& serve_jobserver();
  /// Calls `fn(const progress&)` after every queue, start and finish, on the thread
  /// that caused it, never two at once and never under a lock. If `fn` throws, it is
  /// not called again and wait_all() and wait_any() rethrow the exception.
  template <class F>
  pool& on_progress(F fn) {
    set_progress(detail::progress_function(std::move(fn)));
    return *this;
  }

  /// Queues `job` until a slot frees. The pool owns the job: dropping the handle
  /// leaves it running (wait_all(), wait_any() and progress count it, and the
  /// pool's destructor ends it like the others). `kill()` on the handle cancels
  /// it: a queued job never starts and `wait()` throws cancelled_error. Once the
  /// pool has stopped on a failure, new jobs are cancelled at once.
  handle submit(const expression& job);
  /// Blocks until every submitted job has finished or was cancelled. Each job's
  /// result is on its handle; throws only what an on_progress callback threw.
  void wait_all();
  /// Blocks until the next job finishes and returns its submission index (from 0), in
  /// completion order, once on_progress has reported that finish; nothing once every
  /// submitted job has been returned. The job's result is on its handle; this does
  /// not throw for a failed job.
  std::optional<std::size_t> wait_any();
  /// Whether a failure stopped the pool (failure_policy::stop and finish_running).
  bool stopped() const;

 private:
  explicit pool(std::shared_ptr<detail::pool_state> state) noexcept;
  void set_progress(detail::progress_function fn);
  std::shared_ptr<detail::pool_state> state_;
};

}  // namespace ductile
