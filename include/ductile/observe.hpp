#pragma once
/// \file
/// Tracing like the shell's `set -x`, and an observer for an application's own metrics.

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>

#include "native.hpp"
#include "output.hpp"

namespace ductile {

/// Prints every process to stderr as `+ command` just before it starts, like `set -x`.
/// Also switched on by DUCTILE_TRACE=1 in the environment (read once, at the first spawn).
void trace(bool enabled = true);

struct spawn_event {
  std::string command;  ///< the process as `sh` text
  process_id pid = 0;
};

struct exit_event {
  std::string command;
  process_id pid = 0;
  exit_status status;
  std::chrono::nanoseconds duration{0};  ///< from spawn to reap
};

/// Receives every spawn and exit. Called on the thread that spawns or reaps (the
/// caller of run(), or the shared background thread): keep it quick, and do not
/// wait there for another expression.
class observer {
 public:
  virtual ~observer() = default;
  virtual void spawned(const spawn_event&) {}
  virtual void exited(const exit_event&) {}
};

/// Installs `o` for every later spawn and exit; nullptr removes it.
void set_observer(std::shared_ptr<observer> o);

}  // namespace ductile
