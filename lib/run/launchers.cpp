#include "run/launchers.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "common.hpp"
#include "os/system_calls.hpp"
#include "run/per_process.hpp"

namespace ductile::detail {

// Per process, like the background thread (run/per_process.hpp): a launcher
// may be starting a child while static destructors run at exit.
struct launcher_set {
  std::mutex mutex;
  std::condition_variable work;
  std::deque<std::function<void()>> tasks;
  unsigned threads = 0;
  unsigned idle = 0;

  void serve();
};

DUCTILE_INLINE launcher_set& current_launchers() {
  return per_process<launcher_set>::get([] { return new launcher_set(); });
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
