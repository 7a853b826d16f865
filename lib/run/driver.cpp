#include "run/driver.hpp"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <ductile/error.hpp>
#include <ductile/format.hpp>
#include <system_error>
#include <thread>

#include "model/failure.hpp"

namespace ductile::detail {

// Process-wide state of the driver, immortal (see instance()).
struct driver_registry {
  std::mutex creating;  // held across fork(), so a child never inherits it locked mid-creation
  std::atomic<background_driver*> current{nullptr};
  std::atomic<unsigned> generation{0};
};

DUCTILE_INLINE driver_registry& registry() noexcept {
  static driver_registry* const instance = new driver_registry();
  return *instance;
}

DUCTILE_INLINE unsigned fork_generation() noexcept { return registry().generation.load(std::memory_order_acquire); }

DUCTILE_INLINE void before_fork() noexcept { registry().creating.lock(); }
DUCTILE_INLINE void after_fork_in_parent() noexcept { registry().creating.unlock(); }
// The child has only the thread that forked: the old driver's thread is gone
// and its runs are the parent's. Forget it (leaked, never touched again).
DUCTILE_INLINE void after_fork_in_child() noexcept {
  driver_registry& r = registry();
  r.generation.fetch_add(1, std::memory_order_acq_rel);
  r.current.store(nullptr, std::memory_order_release);
  r.creating.unlock();
}

DUCTILE_INLINE background_driver& background_driver::instance() {
  driver_registry& r = registry();
  if (background_driver* existing = r.current.load(std::memory_order_acquire)) return *existing;
  std::lock_guard<std::mutex> lock(r.creating);
  if (background_driver* existing = r.current.load(std::memory_order_acquire)) return *existing;
  static const bool fork_handlers = [] {
    ::pthread_atfork(before_fork, after_fork_in_parent, after_fork_in_child);
    return true;
  }();
  (void)fork_handlers;
  auto* made = new background_driver();
  r.current.store(made, std::memory_order_release);
  return *made;
}

DUCTILE_INLINE background_driver& background_driver::instance_for(const expression& command) {
  try {
    return instance();
  } catch (const std::system_error& failure) {
    throw_spawn_error(to_string(command), "background thread", "start the background thread", failure.code());
  }
}

DUCTILE_INLINE background_driver::background_driver() {
  if (const auto error = sys::make_event(0, wake_)) throw std::system_error(error, "make an event");
  // The thread inherits the creator's signal mask: block everything so that
  // the host's signals are delivered to its own threads, and a pipe write
  // here can never raise a process-killing SIGPIPE.
  const sys::thread_signals_blocked blocked;
  if (const int fault = sys::injected_fault(sys::call::thread))
    throw std::system_error(std::error_code(fault, std::generic_category()), "thread");
  std::thread([this] { loop(); }).detach();
}

DUCTILE_INLINE void background_driver::wake() noexcept { sys::signal_event(wake_); }

DUCTILE_INLINE void background_driver::nudge() noexcept {
  if (background_driver* existing = registry().current.load(std::memory_order_acquire)) existing->wake();
}

DUCTILE_INLINE void background_driver::adopt(std::shared_ptr<execution> run) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    runs_.push_back(std::move(run));
  }
  wake();
}

DUCTILE_INLINE void background_driver::loop() {
  std::vector<std::shared_ptr<execution>> runs;
  std::vector<pollfd> fds;
  std::vector<std::size_t> offsets;
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      runs = runs_;
    }
    fds.clear();
    offsets.clear();
    fds.push_back(pollfd{wake_.readable.get(), POLLIN, 0});
    fds.push_back(pollfd{interrupt_fd(), POLLIN, 0});  // -1 (ignored by poll) before any interrupt_guard
    std::optional<steady_time> next;
    for (const auto& run : runs) {
      offsets.push_back(fds.size());
      std::lock_guard<std::mutex> lock(run->mutex);
      if (run->finished()) continue;
      try {
        run->collect(fds);
      } catch (...) {
        fds.resize(offsets.back());
        run->end_with(std::current_exception());
        continue;
      }
      const auto deadline = run->next_deadline();
      if (deadline && (!next || *deadline < *next)) next = deadline;
    }
    offsets.push_back(fds.size());

    int ready = 0;
    const auto poll_error = sys::poll_fds(fds.data(), fds.size(), time_until(next), ready);
    if (fds[0].revents != 0) sys::drain_event(wake_);
    if (!poll_error && fds[1].revents != 0) forward_interrupt();

    bool any_finished = false;
    for (std::size_t i = 0; i < runs.size(); ++i) {
      bool observed;
      {
        std::unique_lock<std::mutex> lock(runs[i]->mutex);
        if (poll_error) {
          runs[i]->abandon_supervision(poll_error);
        } else if (!runs[i]->finished()) {
          // An exception here (bad_alloc in a capture, a hook) ends that run
          // alone; the caller gets it from wait().
          try {
            runs[i]->dispatch(fds.data() + offsets[i], offsets[i + 1] - offsets[i]);
            runs[i]->start_right_sides(lock);
          } catch (...) {
            runs[i]->end_with(std::current_exception());
          }
        }
        observed = runs[i]->has_events();
      }
      // No lock held: observers may call back into the run or start others.
      if (observed) runs[i]->deliver_events(false);
      bool finished;
      {
        std::lock_guard<std::mutex> lock(runs[i]->mutex);
        finished = runs[i]->finished();
      }
      // Outside the run's lock: a pool's callback starts other runs.
      if (finished) runs[i]->notify_if_finished();
      any_finished = any_finished || finished;
    }
    if (any_finished) {
      std::lock_guard<std::mutex> lock(mutex_);
      runs_.erase(std::remove_if(runs_.begin(), runs_.end(),
                                 [](const std::shared_ptr<execution>& run) {
                                   std::lock_guard<std::mutex> run_lock(run->mutex);
                                   return run->finished();
                                 }),
                  runs_.end());
    }
    // Drop our references outside any lock: the last one may destroy a run.
    runs.clear();
  }
}

}  // namespace ductile::detail
