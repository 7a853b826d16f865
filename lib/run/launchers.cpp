#include "run/launchers.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "common.hpp"
#include "os/system_calls.hpp"

namespace ductile::detail {

// Immortal, like the background thread: a launcher may be starting a child
// while static destructors run at exit. A child forked from this process has
// none of the threads and starts with a fresh set.
struct launcher_set {
  std::mutex mutex;
  std::condition_variable work;
  std::deque<std::function<void()>> tasks;
  unsigned threads = 0;
  unsigned idle = 0;

  void serve();
};

struct launcher_registry {
  std::mutex creating;  // held across fork(), so the child never inherits it held
  std::atomic<launcher_set*> current{nullptr};
};

DUCTILE_INLINE launcher_registry& launcher_state() noexcept {
  static launcher_registry* const instance = new launcher_registry();
  return *instance;
}

DUCTILE_INLINE void launchers_before_fork() noexcept { launcher_state().creating.lock(); }
DUCTILE_INLINE void launchers_after_fork_in_parent() noexcept { launcher_state().creating.unlock(); }
// The child has only the forking thread: the old set is forgotten (leaked,
// never touched again), whatever lock its threads held.
DUCTILE_INLINE void launchers_after_fork_in_child() noexcept {
  launcher_state().current.store(nullptr, std::memory_order_release);
  launcher_state().creating.unlock();
}

DUCTILE_INLINE launcher_set& current_launchers() {
  launcher_registry& registry = launcher_state();
  if (launcher_set* existing = registry.current.load(std::memory_order_acquire)) return *existing;
  std::lock_guard<std::mutex> lock(registry.creating);
  if (launcher_set* existing = registry.current.load(std::memory_order_acquire)) return *existing;
  static const bool fork_handlers = [] {
    sys::call_around_fork(launchers_before_fork, launchers_after_fork_in_parent, launchers_after_fork_in_child);
    return true;
  }();
  (void)fork_handlers;
  auto* made = new launcher_set();
  registry.current.store(made, std::memory_order_release);
  return *made;
}

DUCTILE_INLINE void launcher_set::serve() {
  // The host's signals go to its own threads; SIGCHLD stays open, as on the
  // background thread, so that the exits of the children started here are
  // discarded by the kernel instead of waking another thread.
  sys::accept_child_signals();
  std::unique_lock<std::mutex> lock(mutex);
  for (;;) {
    ++idle;
    work.wait(lock, [this] { return !tasks.empty(); });
    --idle;
    std::function<void()> task = std::move(tasks.front());
    tasks.pop_front();
    lock.unlock();
    try {
      task();
    } catch (...) {
      // A task reports its own failures; one that escapes must not end the thread.
    }
    task = nullptr;  // what it holds goes now, with no lock held
    lock.lock();
  }
}

DUCTILE_INLINE unsigned launchers::limit() noexcept {
#if DUCTILE_WINDOWS_BACKEND
  // None on Windows: with launcher threads the Windows stress suite's
  // process did not end under Wine once main had returned. Until that is
  // understood, pools there start their jobs as before.
  return 0;
#else
  // Asked once: the C library reads it from /sys on every call.
  static const unsigned cores = std::max(2u, std::thread::hardware_concurrency());
  return cores;
#endif
}

DUCTILE_INLINE bool launchers::post(std::function<void()> task) noexcept {
  if (limit() == 0) return false;
  try {
    launcher_set& set = current_launchers();
    std::unique_lock<std::mutex> lock(set.mutex);
    set.tasks.push_back(std::move(task));
    if (set.idle >= set.tasks.size()) {
      lock.unlock();
      set.work.notify_one();
      return true;
    }
    if (set.threads < limit()) {
      try {
        // Made with every signal blocked, which it inherits.
        const sys::thread_signals_blocked blocked;
        std::thread([&set] { set.serve(); }).detach();
        ++set.threads;
        return true;
      } catch (...) {
        // No thread now: a busy one takes the task when it is done, or the caller does.
      }
    }
    if (set.threads > 0) return true;
    set.tasks.pop_back();
    return false;
  } catch (...) {
    return false;  // no memory for the task or the set: the caller does it itself
  }
}

}  // namespace ductile::detail
