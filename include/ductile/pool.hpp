#pragma once
/// \file
/// `pool`: runs many expressions with at most N at a time, for build tools.

#include <cstddef>
#include <memory>
#include <optional>

#include "expression.hpp"
#include "handle.hpp"

namespace ductile {

namespace detail {
struct pool_state;
}

/// What a pool does when a job fails: go on like `make -k`, or stop like `make`.
enum class failure_policy { keep_going, stop };

/// Runs submitted expressions with at most `max_parallel` running at once. All
/// pools and handles together use the one shared background thread.
class pool {
 public:
  /// Throws std::invalid_argument if `max_parallel` is 0.
  explicit pool(std::size_t max_parallel, failure_policy policy = failure_policy::keep_going);
  /// Cancels queued jobs and kills running ones, then reaps them.
  ~pool();
  pool(const pool&) = delete;
  pool& operator=(const pool&) = delete;

  /// Queues `job` until a slot frees. `kill()` on the handle of a queued job cancels it:
  /// it never starts and `wait()` throws status_error. Once the pool has stopped on a
  /// failure, new jobs are cancelled at once.
  [[nodiscard]] handle submit(const expression& job);
  /// Blocks until every submitted job has finished or was cancelled. Does not throw:
  /// each job's result is on its handle.
  void wait_all();
  /// Blocks until the next job finishes and returns its submission index (from 0), in
  /// completion order; nothing once every submitted job has been returned.
  std::optional<std::size_t> wait_any();
  /// Whether a failure stopped the pool (failure_policy::stop only).
  bool stopped() const;

 private:
  std::shared_ptr<detail::pool_state> state_;
};

}  // namespace ductile
