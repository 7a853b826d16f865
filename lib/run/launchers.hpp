#pragma once
// Threads that start a pool's jobs side by side. One thread starts one child
// at a time (it waits while the child execs), so a pool that starts all its
// jobs from the background thread is bound to one core's spawn rate. A few
// launcher threads, at most one per core, take that work; the background
// thread keeps waiting and reaping.

#include <functional>

namespace ductile::detail {

class launchers {
 public:
  // How many launcher threads there may be: the cores, at least two; none
  // on Windows (see launchers.cpp), where pools start jobs as before.
  static unsigned limit() noexcept;
  // Runs `task` on a launcher thread (an idle one, else a new one while
  // there are fewer than limit()); false if no thread can be had, and the
  // caller runs it itself. A task reports its own failures.
  static bool post(std::function<void()> task) noexcept;
};

}  // namespace ductile::detail
