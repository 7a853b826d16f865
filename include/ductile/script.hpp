#pragma once
/// \file
/// Scripts: Ctrl-C that unwinds instead of killing, and an entry point that
/// ends with the exit status a shell would give.

#include <csignal>
#include <exception>
#include <initializer_list>
#include <type_traits>

#include "error.hpp"

namespace ductile {

/// While alive, SIGINT, SIGTERM and SIGHUP (or the given signals) reaching
/// this process are forwarded to every running child of ductile (and to their
/// process groups when they have their own), and the blocking calls waiting
/// for those runs throw interrupted_error once the children are reaped, so
/// the program unwinds through its destructors. A signal that arrives while
/// no run is going interrupts the next run that starts, on any thread. At
/// most one alive at a time; a signal listed twice is std::invalid_argument;
/// the destructor restores the previous dispositions.
class interrupt_guard {
 public:
#ifdef _WIN32
  // A console's Ctrl-C, Ctrl-Break and close events, as the C runtime names them.
  explicit interrupt_guard(std::initializer_list<int> signals = {SIGINT, SIGTERM, SIGBREAK});
#else
  explicit interrupt_guard(std::initializer_list<int> signals = {SIGINT, SIGTERM, SIGHUP});
#endif
  ~interrupt_guard();
  /// A guarded signal arrived and no ductile call has thrown it as
  /// interrupted_error yet: for a loop that does work of its own between runs.
  static bool interrupted() noexcept;
  interrupt_guard(const interrupt_guard&) = delete;
  interrupt_guard& operator=(const interrupt_guard&) = delete;

 private:
  int signals_[8] = {};
  int count_ = 0;
};

namespace detail {
// Prints what `failure` says to stderr and returns the status a shell would.
int script_failure(std::exception_ptr failure) noexcept;
}  // namespace detail

/// `int main() { return ductile::script_main([] { ... }); }`: runs `body`
/// under an interrupt_guard and returns its result (if it returns an int; else
/// 0), or, after printing a failure to stderr, what a shell would return: the
/// failing child's exit code, 128 + signal for a signal or an interruption,
/// 127 / 126 for a program not found / not executable, 1 for anything else.
template <class F>
int script_main(F body) {
  try {
    interrupt_guard guard;
    if constexpr (std::is_convertible_v<std::invoke_result_t<F&>, int>) {
      return static_cast<int>(body());
    } else {
      body();
      return 0;
    }
  } catch (...) {
    return detail::script_failure(std::current_exception());
  }
}

}  // namespace ductile
