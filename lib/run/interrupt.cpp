#include "run/interrupt.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <ductile/script.hpp>
#include <stdexcept>
#include <system_error>

#include "jobserver/auth.hpp"
#include "os/system_calls.hpp"
#include "run/driver.hpp"
#include "run/execution.hpp"

namespace ductile::detail {

// Process-wide and immortal, like the background driver: a signal may come
// while static destructors run.
struct interrupt_state {
  std::mutex runs_mutex;  // held across fork(), so a child never inherits it locked
  execution* first_run = nullptr;
  std::mutex making;  // the event, once
  sys::event pending_event;
  std::atomic<const sys::event*> made{nullptr};  // pending_event, once it is made
  std::atomic<int> pending_signal{0};            // arrived, not yet taken by a run
  std::atomic<bool> unthrown{false};             // arrived, no interrupted_error thrown since
  std::atomic<bool> guarded{false};
};

DUCTILE_INLINE void lock_runs_for_fork() noexcept;
DUCTILE_INLINE void unlock_runs_after_fork() noexcept;

DUCTILE_INLINE interrupt_state& interrupts() noexcept {
  static interrupt_state* const state = [] {
    auto* made = new interrupt_state();
    sys::call_around_fork(lock_runs_for_fork, unlock_runs_after_fork, unlock_runs_after_fork);
    return made;
  }();
  return *state;
}

DUCTILE_INLINE void lock_runs_for_fork() noexcept { interrupts().runs_mutex.lock(); }
DUCTILE_INLINE void unlock_runs_after_fork() noexcept { interrupts().runs_mutex.unlock(); }

DUCTILE_INLINE const sys::event* interrupt_event() noexcept {
  return interrupts().made.load(std::memory_order_acquire);
}

DUCTILE_INLINE bool interrupt_pending() noexcept {
  return interrupts().pending_signal.load(std::memory_order_acquire) != 0;
}

DUCTILE_INLINE void join_interruptible(execution& run) {
  interrupt_state& s = interrupts();
  std::lock_guard<std::mutex> lock(s.runs_mutex);
  run.interrupt_links.next = s.first_run;
  if (s.first_run != nullptr) s.first_run->interrupt_links.prev = &run;
  s.first_run = &run;
  // The signal came between two runs (or while the background thread alone
  // watched): this run is the next one, and is interrupted before it starts.
  if (const int signal = s.pending_signal.exchange(0, std::memory_order_acq_rel)) run.interrupt(signal);
}

DUCTILE_INLINE void leave_interruptible(execution& run) noexcept {
  interrupt_state& s = interrupts();
  std::lock_guard<std::mutex> lock(s.runs_mutex);
  if (run.interrupt_links.prev != nullptr)
    run.interrupt_links.prev->interrupt_links.next = run.interrupt_links.next;
  else if (s.first_run == &run)
    s.first_run = run.interrupt_links.next;
  if (run.interrupt_links.next != nullptr) run.interrupt_links.next->interrupt_links.prev = run.interrupt_links.prev;
  run.interrupt_links = {};
}

DUCTILE_INLINE void forward_interrupt() {
  interrupt_state& s = interrupts();
  if (s.pending_event) sys::drain_event(s.pending_event);
  std::lock_guard<std::mutex> lock(s.runs_mutex);
  const int signal = s.pending_signal.load(std::memory_order_acquire);
  if (signal == 0) return;
  bool taken = false;
  for (execution* run = s.first_run; run != nullptr; run = run->interrupt_links.next)
    taken = run->interrupt(signal) || taken;
  // Nobody took it: it waits for the next run, whichever thread starts it.
  int expected = signal;  // a newer signal meanwhile stays pending
  if (taken) s.pending_signal.compare_exchange_strong(expected, 0, std::memory_order_acq_rel);
}

DUCTILE_INLINE void interrupt_thrown() noexcept { interrupts().unthrown.store(false, std::memory_order_release); }

// Async-signal-safe: two atomic stores and a write.
DUCTILE_INLINE void record_interrupt(int signal) {
  const int saved = errno;
  interrupt_state& s = interrupts();
  s.pending_signal.store(signal, std::memory_order_release);
  s.unthrown.store(true, std::memory_order_release);
  sys::signal_event(*s.made.load(std::memory_order_acquire));
  errno = saved;
}

}  // namespace ductile::detail

namespace ductile {

DUCTILE_INLINE interrupt_guard::interrupt_guard(std::initializer_list<int> signals) {
  using namespace detail;
  interrupt_state& s = interrupts();
  if (signals.size() > sizeof signals_ / sizeof signals_[0])
    throw std::invalid_argument("interrupt_guard: at most 8 signals");
  for (auto signal = signals.begin(); signal != signals.end(); ++signal) {
    if (!sys::can_catch(*signal))
      throw std::invalid_argument("interrupt_guard: " + signal_name(*signal) + " cannot be caught");
    // Installed twice, the second would save the guard's own handler as the
    // one to restore, and the signal would stay swallowed after the guard.
    if (std::find(signals.begin(), signal, *signal) != signal)
      throw std::invalid_argument("interrupt_guard: " + signal_name(*signal) + " is listed twice");
  }
  bool expected = false;
  if (!s.guarded.compare_exchange_strong(expected, true))
    throw std::logic_error("interrupt_guard: another guard is alive; there can be one per process");
  {
    std::lock_guard<std::mutex> lock(s.making);
    if (!s.pending_event) {
      if (const auto error = sys::make_event(0, s.pending_event)) {
        s.guarded.store(false);
        throw std::system_error(error, "interrupt_guard: make its event");
      }
      // Made at the start of a script (script_main), it would otherwise take
      // the first free number: often one that MAKEFLAGS names.
      s.pending_event.readable.reset(keep_off_jobserver_numbers(s.pending_event.readable.release()));
      if (s.pending_event.writer)
        s.pending_event.writer.reset(keep_off_jobserver_numbers(s.pending_event.writer.release()));
      s.made.store(&s.pending_event, std::memory_order_release);
      background_driver::nudge();  // it waits on a list made before the descriptor existed
    }
  }
  for (const int signal : signals) {
    if (const auto error = sys::catch_signal(signal, record_interrupt)) {
      for (int i = 0; i < count_; ++i) sys::restore_signal(signals_[i]);
      count_ = 0;
      s.guarded.store(false);
      throw std::system_error(error, "interrupt_guard: catch " + signal_name(signal));
    }
    signals_[count_++] = signal;
  }
}

DUCTILE_INLINE interrupt_guard::~interrupt_guard() {
  detail::interrupt_state& s = detail::interrupts();
  for (int i = 0; i < count_; ++i) detail::sys::restore_signal(signals_[i]);
  s.pending_signal.store(0);
  s.unthrown.store(false);
  if (s.pending_event) detail::sys::drain_event(s.pending_event);
  s.guarded.store(false);
}

DUCTILE_INLINE bool interrupt_guard::interrupted() noexcept {
  return detail::interrupts().unthrown.load(std::memory_order_acquire);
}

}  // namespace ductile
