#include "run/driver.hpp"

#include <algorithm>
#include <cstdint>
#include <ductile/error.hpp>
#include <ductile/format.hpp>
#include <system_error>
#include <thread>

#include "jobserver/auth.hpp"
#include "model/failure.hpp"
#include "run/interrupt.hpp"
#include "run/per_process.hpp"

namespace ductile::detail {

// The children a forked child inherits from this process are not its own:
// runs made before the fork are foreign there (execution::foreign()).
DUCTILE_INLINE unsigned fork_generation() noexcept { return per_process<background_driver>::forks(); }

DUCTILE_INLINE background_driver& background_driver::instance() {
  return per_process<background_driver>::get([] { return new background_driver(); });
}

DUCTILE_INLINE background_driver& background_driver::instance_for(const expression& command) {
  try {
    return instance();
  } catch (const std::system_error& failure) {
    throw_spawn_error(to_string(command), "background thread", "start the background thread", failure.code());
  }
}

DUCTILE_INLINE bool& driving_here() noexcept {
  static thread_local bool driving = false;
  return driving;
}

DUCTILE_INLINE bool background_driver::on_driver_thread() noexcept { return driving_here(); }

DUCTILE_INLINE background_driver::background_driver() {
  if (const auto error = sys::make_event(0, wake_)) throw std::system_error(error, "make an event");
  wake_.readable.reset(keep_off_jobserver_numbers(wake_.readable.release()));
  if (wake_.writer) wake_.writer.reset(keep_off_jobserver_numbers(wake_.writer.release()));
  if (const auto error = watched_.open()) throw std::system_error(error, "make a readiness set");
  watched_.watch_event(wake_, wake_owner);
  // The thread inherits the creator's signal mask: block everything so that
  // the host's signals are delivered to its own threads, and a pipe write
  // here can never raise a process-killing SIGPIPE.
  const sys::thread_signals_blocked blocked;
  if (const int fault = sys::injected_fault(sys::call::thread))
    throw std::system_error(std::error_code(fault, std::generic_category()), "thread");
  std::thread([this] { loop(); }).detach();
}

DUCTILE_INLINE void background_driver::wake() noexcept { sys::signal_event(wake_); }

DUCTILE_INLINE void background_driver::nudge(const execution* run) noexcept {
  background_driver* existing = per_process<background_driver>::existing();
  if (existing == nullptr) return;
  if (run != nullptr) {
    std::lock_guard<std::mutex> lock(existing->mutex_);
    try {
      existing->nudged_.push_back(run);
    } catch (...) {
      // Out of memory: the run is looked at when its next event comes.
    }
  }
  existing->wake();
}

DUCTILE_INLINE bool background_driver::post(std::function<void()> task) noexcept {
  try {
    background_driver& driver = instance();
    if (on_driver_thread()) {
      // From a callback of this thread: run once this turn's steps are done,
      // with no lock and no wake-up.
      driver.posted_here_.push_back(std::move(task));
      return true;
    }
    {
      std::lock_guard<std::mutex> lock(driver.mutex_);
      driver.posted_.push_back(std::move(task));
    }
    driver.wake();
    return true;
  } catch (...) {
    return false;  // no thread, or no memory: the caller does it itself
  }
}

DUCTILE_INLINE void background_driver::adopt(std::shared_ptr<execution> run) {
  run->set_adopted();
  if (on_driver_thread()) {
    // A pool starting its next job from a callback of this thread: no lock,
    // no wake-up, it is looked at before the thread waits again.
    adopted_here_.push_back(std::move(run));
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    adopted_.push_back(std::move(run));
  }
  wake();
}

DUCTILE_INLINE void background_driver::loop() {
  driving_here() = true;
  // The children this thread starts report their exit to it. With SIGCHLD
  // blocked here, each exit would interrupt a thread of the host instead
  // (one sleeping in wait(), say); unblocked, the kernel discards it unless
  // the host handles SIGCHLD, whose handler may then run on this thread.
  sys::accept_child_signals();
  std::vector<sys::readiness> ready;
  for (;;) {
    take_news();
    step_due();
    if (!adopted_here_.empty() || !posted_here_.empty()) continue;
    if (const sys::event* interrupts = interrupt_event(); interrupts != watched_interrupts_) {
      // Made by the first interrupt_guard, after this thread began waiting.
      watched_interrupts_ = interrupts;
      watched_.watch_event(*interrupts, interrupt_owner);
    }
    const auto timeout = deadlines_.empty() ? std::chrono::nanoseconds(-1) : time_until(deadlines_.begin()->first);
    ready.clear();
    if (const auto error = watched_.wait(timeout, ready)) {
      // Every run started so far ends with the error, including those
      // adopted while the thread was on its way to the failed wait.
      take_news();
      abandon_all(error);
      continue;
    }
    for (const auto& r : ready) notice(r);
    // The Ctrl-C that ended a child may be recorded before its event is
    // seen: forwarded first, it makes that run interrupted, not killed.
    if (watched_interrupts_ != nullptr && interrupt_pending()) forward_interrupt();
    if (!deadlines_.empty()) {
      const auto now = std::chrono::steady_clock::now();
      for (auto it = deadlines_.begin(); it != deadlines_.end() && it->first <= now; ++it) {
        if (auto found = runs_.find(it->second); found != runs_.end()) mark_due(found->first, found->second);
      }
    }
    step_due();
  }
}

DUCTILE_INLINE void background_driver::take_news() {
  std::vector<std::shared_ptr<execution>> adopted;
  std::vector<const execution*> nudged;
  std::vector<std::function<void()>> posted;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    adopted.swap(adopted_);
    nudged.swap(nudged_);
    posted.swap(posted_);
  }
  for (auto& task : posted_here_) posted.push_back(std::move(task));
  posted_here_.clear();
  // Tasks first: what they start is adopted below, in this same turn.
  for (auto& task : posted) {
    try {
      task();
    } catch (...) {
      // A task reports its own failures; one that escapes must not end the thread.
    }
  }
  for (auto& run : adopted_here_) adopted.push_back(std::move(run));
  adopted_here_.clear();
  for (auto& run : adopted) welcome(std::move(run));
  for (const execution* run : nudged) {
    const auto serial = serial_of_.find(run);
    if (serial == serial_of_.end()) continue;
    if (auto found = runs_.find(serial->second); found != runs_.end()) mark_due(found->first, found->second);
  }
}

DUCTILE_INLINE void background_driver::welcome(std::shared_ptr<execution> run) {
  // Serial numbers wrap after four billion runs; one still alive is skipped.
  do {
    ++last_serial_;
  } while (last_serial_ < first_run_owner || runs_.count(last_serial_) != 0);
  const std::uint32_t serial = last_serial_;
  const execution* key = run.get();
  watched_run& entry = runs_[serial];
  entry.run = std::move(run);
  serial_of_[key] = serial;
  if (!refresh(entry, serial)) {
    entry.run->notify_if_finished();
    let_go(serial);
  }
}

DUCTILE_INLINE void background_driver::mark_due(std::uint32_t serial, watched_run& entry) {
  if (entry.due) return;
  entry.due = true;
  due_.push_back(serial);
}

DUCTILE_INLINE void background_driver::notice(const sys::readiness& ready) {
  if (ready.owner == wake_owner) {
    if (sys::readiness_set::reports(ready, wake_)) {
      sys::drain_event(wake_);
      watched_.watch_event(wake_, wake_owner);
    }
    return;
  }
  if (ready.owner == interrupt_owner) {
    if (watched_interrupts_ != nullptr && sys::readiness_set::reports(ready, *watched_interrupts_)) {
      forward_interrupt();
      watched_.watch_event(*watched_interrupts_, interrupt_owner);
    }
    return;
  }
  const auto found = runs_.find(ready.owner);
  if (found == runs_.end()) return;  // a run already let go
  watched_run& entry = found->second;
  const bool known = sys::readiness_set::deliver(ready, entry.waits);
  if (known) mark_due(found->first, entry);
}

DUCTILE_INLINE void background_driver::step_due() {
  // Nothing makes a run due while runs are stepped: nudges and adoptions
  // wait for the next turn.
  for (std::size_t i = 0; i < due_.size(); ++i) step(due_[i]);
  due_.clear();
}

DUCTILE_INLINE void background_driver::step(std::uint32_t serial) {
  const auto found = runs_.find(serial);
  if (found == runs_.end()) return;
  watched_run& entry = found->second;
  entry.due = false;
  // Kept alive here: a callback below may drop every other reference.
  const std::shared_ptr<execution> run = entry.run;
  bool observed;
  {
    std::unique_lock<std::mutex> lock(run->mutex);
    if (!run->finished()) {
      // An exception here (bad_alloc in a capture, a hook) ends that run
      // alone; the caller gets it from wait().
      try {
        // Collected before try_wait() dispatched the run itself: the
        // descriptors may no longer be in that order, and are collected again.
        if (entry.collected_at == run->checks()) run->dispatch(entry.waits);
        run->start_right_sides(lock);
      } catch (...) {
        run->end_with(std::current_exception());
      }
    }
    observed = run->has_events();
  }
  // No lock held: observers may call back into the run or start others.
  if (observed) run->deliver_events(false);
  // `entry` is still in place: runs are added and removed only between steps.
  if (refresh(entry, serial)) return;
  // Outside the run's lock: a pool's callback starts other runs.
  run->notify_if_finished();
  let_go(serial);
}

DUCTILE_INLINE bool background_driver::refresh(watched_run& entry, std::uint32_t serial) {
  execution& run = *entry.run;
  std::optional<steady_time> deadline;
  {
    // Held while the descriptors are watched too: only under it are they
    // sure to be the run's, not closed and their numbers reused.
    std::lock_guard<std::mutex> lock(run.mutex);
    entry.waits.clear();
    entry.collected_at = run.checks();
    if (!run.finished()) {
      try {
        run.collect(entry.waits);
      } catch (...) {
        entry.waits.clear();
        run.end_with(std::current_exception());
      }
    }
    if (run.finished()) return false;
    deadline = run.next_deadline();
    watched_.follow(entry.waits, serial, entry.watched);
  }
  if (entry.has_deadline && (!deadline || entry.deadline->first != *deadline)) {
    deadlines_.erase(entry.deadline);
    entry.has_deadline = false;
  }
  if (deadline && !entry.has_deadline) {
    entry.deadline = deadlines_.emplace(*deadline, serial);
    entry.has_deadline = true;
  }
  return true;
}

DUCTILE_INLINE void background_driver::let_go(std::uint32_t serial) {
  const auto found = runs_.find(serial);
  if (found == runs_.end()) return;
  watched_run& entry = found->second;
  watched_.forget_all(entry.watched, serial);
  if (entry.has_deadline) deadlines_.erase(entry.deadline);
  const auto key = serial_of_.find(entry.run.get());
  if (key != serial_of_.end() && key->second == serial) serial_of_.erase(key);
  // Dropped with no lock held: the last reference may destroy the run.
  const std::shared_ptr<execution> run = std::move(entry.run);
  runs_.erase(found);
}

DUCTILE_INLINE void background_driver::abandon_all(const std::error_code& error) {
  std::vector<std::uint32_t> serials;
  serials.reserve(runs_.size());
  for (const auto& entry : runs_) serials.push_back(entry.first);
  for (const std::uint32_t serial : serials) {
    const std::shared_ptr<execution> run = runs_[serial].run;
    {
      std::lock_guard<std::mutex> lock(run->mutex);
      if (!run->finished()) run->abandon_supervision(error);
    }
    run->notify_if_finished();
    let_go(serial);
  }
}

}  // namespace ductile::detail
