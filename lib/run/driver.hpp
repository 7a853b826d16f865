#pragma once
// The one background thread that drives every started run of the process:
// handles, readers and line ranges never get a thread of their own.

#include <memory>
#include <mutex>
#include <vector>

#include "run/execution.hpp"

namespace ductile::detail {

class background_driver {
 public:
  // Created, with its thread, on first use, and never destroyed: the thread
  // may still be driving runs while static destructors run at exit, so
  // everything it touches is immortal too. A child forked from this process
  // starts without one and makes its own on first use.
  static background_driver& instance();
  // instance(), or a spawn_error naming `command` if the thread cannot be made.
  static background_driver& instance_for(const expression& command);
  // Drives `run` until it has finished, whether or not anybody waits for it.
  void adopt(std::shared_ptr<execution> run);
  // Wakes the thread, if there is one, to rebuild what it waits for.
  static void nudge() noexcept;

 private:
  background_driver();
  void loop();
  void wake() noexcept;

  std::mutex mutex_;
  std::vector<std::shared_ptr<execution>> runs_;
  sys::event wake_;
};

}  // namespace ductile::detail
