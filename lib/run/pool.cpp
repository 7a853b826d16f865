// A pool queues runs and starts them as slots free. It has no thread: runs
// finish on the shared background thread, whose callback starts the next ones.

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <ductile/pool.hpp>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "run/queued_run.hpp"

namespace ductile {
namespace detail {

struct pool_state : std::enable_shared_from_this<pool_state> {
  mutable std::mutex mutex;
  std::condition_variable changed;
  std::size_t max_parallel = 1;
  failure_policy policy = failure_policy::keep_going;
  std::vector<queued_run> runs;  // every run submitted, by index
  std::vector<bool> launched;
  std::deque<std::size_t> queue;
  std::deque<std::size_t> completed;  // not yet returned by wait_any
  std::size_t running = 0;
  std::size_t finished = 0;
  bool stopping = false;

  void launch_ready();
  void on_finished(std::size_t index);
  void stop(std::unique_lock<std::mutex>& lock);
};

// Starts queued runs while there are free slots. A run that fails to start
// finishes at once and its callback comes back here: that nested call returns
// and the loop below takes the slot, so a long row of failures does not recurse.
DUCTILE_INLINE void pool_state::launch_ready() {
  thread_local bool launching = false;
  if (launching) return;
  launching = true;
  struct reset_flag {
    ~reset_flag() { launching = false; }
  } reset;
  for (;;) {
    std::shared_ptr<execution> next;
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (stopping || running >= max_parallel || queue.empty()) return;
      const std::size_t index = queue.front();
      queue.pop_front();
      launched[index] = true;
      ++running;
      next = runs[index].run();
    }
    queued_run(std::move(next)).launch();
  }
}

// Cancels what is queued and kills what runs; called with `lock` held, returns with it held.
DUCTILE_INLINE void pool_state::stop(std::unique_lock<std::mutex>& lock) {
  stopping = true;
  std::vector<queued_run> unfinished;
  for (std::size_t index : queue) unfinished.push_back(runs[index]);
  for (std::size_t i = 0; i < runs.size(); ++i)
    if (launched[i]) unfinished.push_back(runs[i]);
  lock.unlock();
  for (auto& run : unfinished) run.stop();
  lock.lock();
}

DUCTILE_INLINE void pool_state::on_finished(std::size_t index) {
  std::shared_ptr<execution> run;
  {
    // submit() may be growing `runs` on another thread.
    std::lock_guard<std::mutex> lock(mutex);
    run = runs[index].run();
  }
  const bool failed = run->failed();
  {
    std::unique_lock<std::mutex> lock(mutex);
    if (launched[index]) {
      --running;
    } else {
      queue.erase(std::remove(queue.begin(), queue.end(), index), queue.end());
    }
    ++finished;
    completed.push_back(index);
    if (failed && policy == failure_policy::stop && !stopping) stop(lock);
  }
  changed.notify_all();
  launch_ready();
}

}  // namespace detail

DUCTILE_INLINE pool::pool(std::size_t max_parallel, failure_policy policy)
    : state_(std::make_shared<detail::pool_state>()) {
  if (max_parallel == 0) throw std::invalid_argument("pool: max_parallel must be at least 1");
  state_->max_parallel = max_parallel;
  state_->policy = policy;
}

DUCTILE_INLINE pool::~pool() {
  {
    std::unique_lock<std::mutex> lock(state_->mutex);
    if (!state_->stopping) state_->stop(lock);
  }
  wait_all();
}

DUCTILE_INLINE handle pool::submit(const expression& job) {
  auto run = std::make_shared<detail::execution>(job);
  bool cancel = false;
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    const std::size_t index = state_->runs.size();
    std::weak_ptr<detail::pool_state> weak = state_;
    run->set_on_finished([weak, index] {
      if (auto state = weak.lock()) state->on_finished(index);
    });
    state_->runs.emplace_back(run);
    state_->launched.push_back(false);
    state_->queue.push_back(index);
    cancel = state_->stopping;
  }
  if (cancel)
    run->request_kill();
  else
    state_->launch_ready();
  return handle(std::move(run));
}

DUCTILE_INLINE void pool::wait_all() {
  std::unique_lock<std::mutex> lock(state_->mutex);
  state_->changed.wait(lock, [this] { return state_->finished == state_->runs.size(); });
}

DUCTILE_INLINE std::optional<std::size_t> pool::wait_any() {
  std::unique_lock<std::mutex> lock(state_->mutex);
  state_->changed.wait(lock, [this] { return !state_->completed.empty() || state_->finished == state_->runs.size(); });
  if (state_->completed.empty()) return std::nullopt;
  const std::size_t index = state_->completed.front();
  state_->completed.pop_front();
  return index;
}

DUCTILE_INLINE bool pool::stopped() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->stopping;
}

}  // namespace ductile
