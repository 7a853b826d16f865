#pragma once
// Process-wide state with threads of its own (the background thread, the
// launchers): made on first use and immortal, since one of its threads may
// be at work while static destructors run at exit. A child forked from the
// process has only the forking thread: there the parent's instance is
// forgotten (leaked, never touched again, whatever lock its threads held)
// and the child makes its own on first use.

#include <atomic>
#include <mutex>

#include "os/system_calls.hpp"

namespace ductile::detail {

template <class State>
class per_process {
 public:
  // The instance, made by `make` (returning a new State*) if there is none.
  template <class Make>
  static State& get(Make make) {
    registry& r = shared();
    if (State* current = r.current.load(std::memory_order_acquire)) return *current;
    std::lock_guard<std::mutex> lock(r.creating);
    if (State* current = r.current.load(std::memory_order_acquire)) return *current;
    handle_forks();
    State* made = make();
    r.current.store(made, std::memory_order_release);
    return *made;
  }

  // The instance if one was made in this process, else nullptr.
  static State* existing() noexcept { return shared().current.load(std::memory_order_acquire); }

  // How many forks lie between the first instance's process and this one.
  static unsigned forks() noexcept { return shared().forks.load(std::memory_order_acquire); }

 private:
  struct registry {
    std::mutex creating;  // held across fork(), so a child never inherits it locked mid-creation
    std::atomic<State*> current{nullptr};
    std::atomic<unsigned> forks{0};
  };

  static registry& shared() noexcept {
    static registry* const instance = new registry();
    return *instance;
  }

  // Once per State, whichever `make` first came: twice would lock `creating` twice at a fork.
  static void handle_forks() noexcept {
    static const bool registered = [] {
      sys::call_around_fork(before_fork, after_fork_in_parent, after_fork_in_child);
      return true;
    }();
    (void)registered;
  }

  static void before_fork() noexcept { shared().creating.lock(); }
  static void after_fork_in_parent() noexcept { shared().creating.unlock(); }
  static void after_fork_in_child() noexcept {
    registry& r = shared();
    r.forks.fetch_add(1, std::memory_order_acq_rel);
    r.current.store(nullptr, std::memory_order_release);
    r.creating.unlock();
  }
};

}  // namespace ductile::detail
