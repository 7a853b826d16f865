#pragma once
// The one background thread that drives every started run of the process:
// handles, readers and line ranges never get a thread of their own.
//
// Its cost is per event, not per live run: the runs' descriptors sit in one
// readiness set (epoll on Linux) and their deadlines in one ordered map, and
// a wake-up steps only the runs it concerns, so the ten-thousandth live child
// costs what the first did.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "os/readiness.hpp"
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
  // Wakes the thread, if there is one, to step `run` again: another thread
  // changed what it waits for (a deadline, a kill) or finished it. With no
  // run, it only looks again at the interrupt descriptor.
  static void nudge(const execution* run = nullptr) noexcept;
  // Runs `task` on the thread before it next waits; false if the thread
  // cannot be made. A pool hands its launches over this way, so that a
  // submitting caller never pays for a spawn and the thread adopts what it
  // starts without being woken for each run. Posted from the thread itself,
  // the task runs after the runs due this turn have been stepped.
  static bool post(std::function<void()> task) noexcept;
  // Whether the caller is the background thread itself.
  static bool on_driver_thread() noexcept;

 private:
  using deadline_map = std::multimap<steady_time, std::uint32_t>;
  // A run as the thread sees it, under a serial number that is never reused
  // while it lives (the owner of its descriptors in the readiness set).
  struct watched_run {
    std::shared_ptr<execution> run;
    os::wait_list waits;                   // what its last collect() asked for
    std::uint64_t collected_at = 0;        // the run's checks() then
    sys::readiness_set::followed watched;  // what of it the readiness set watches
    deadline_map::iterator deadline;
    bool has_deadline = false;
    bool due = false;  // to be stepped this turn
  };

  background_driver();
  void loop();
  void wake() noexcept;
  void take_news();
  void welcome(std::shared_ptr<execution> run);
  void mark_due(std::uint32_t serial, watched_run& entry);
  void step_due();
  void step(std::uint32_t serial);
  // Collects what the run waits for now; false once it has finished.
  bool refresh(watched_run& entry, std::uint32_t serial);
  void let_go(std::uint32_t serial);
  void notice(const sys::readiness& ready);
  void abandon_all(const std::error_code& error);

  // Shared with other threads, under mutex_.
  std::mutex mutex_;
  std::vector<std::shared_ptr<execution>> adopted_;
  std::vector<const execution*> nudged_;
  std::vector<std::function<void()>> posted_;
  sys::event wake_;

  // The thread's own.
  std::vector<std::shared_ptr<execution>> adopted_here_;  // by the thread itself (a pool's next job)
  std::vector<std::function<void()>> posted_here_;        // by the thread itself (a pool's launches)
  sys::readiness_set watched_;
  std::unordered_map<std::uint32_t, watched_run> runs_;
  std::unordered_map<const execution*, std::uint32_t> serial_of_;
  deadline_map deadlines_;
  std::vector<std::uint32_t> due_;
  std::uint32_t last_serial_ = 0;
  const sys::event* watched_interrupts_ = nullptr;
  // Owners in the readiness set: the thread's two wake-ups, then the runs
  // by serial number.
  static constexpr std::uint32_t wake_owner = 0;
  static constexpr std::uint32_t interrupt_owner = 1;
  static constexpr std::uint32_t first_run_owner = 2;
};

}  // namespace ductile::detail
