#pragma once
// One run of an expression: its state, its lock and its result. The parts it
// is made of each have one job: the job tree (how results pass up), the
// process table (signal, wait, reap), the stream pump (captures, tees, fed
// stdin). The run is driven by an event loop in steps: collect() says what
// to wait for, dispatch() handles what happened. Whoever drives it (the
// caller of run(), or the shared background thread) holds `mutex` around
// each step, and releases it whenever user code runs: hooks of processes
// started later, and the observer.

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <ductile/expression.hpp>
#include <ductile/observe.hpp>
#include <ductile/output.hpp>
#include <ductile/proc.hpp>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "plan/plan.hpp"
#include "run/interrupt.hpp"
#include "run/job_tree.hpp"
#include "run/process_table.hpp"
#include "run/spawn.hpp"
#include "run/stream_pump.hpp"

namespace ductile::detail {

// How long poll() may wait for `deadline`: zero once it has passed, negative
// for no deadline (wait forever).
std::chrono::nanoseconds time_until(const std::optional<steady_time>& deadline);

enum class run_state {
  queued,    // made, not started: start() runs it, kill() cancels it
  running,   // processes may be alive, more may start
  stopping,  // killed or failed: nothing new starts, what runs got SIGKILL
  finished,  // the result is final and waiters were woken
};

class execution {
 public:
  explicit execution(expression tree);
  ~execution();
  execution(const execution&) = delete;
  execution& operator=(const execution&) = delete;

  // Where lowering gets its pipes; only before start().
  stream_sink& streams() noexcept { return pump_; }

  // Lowers the tree and spawns its first processes; takes `mutex` itself and
  // releases it while hooks and observers run. If anything fails, what
  // already started is killed and reaped before the exception propagates.
  // Does nothing unless the run is queued.
  void start(context&& initial);
  // Starts the right sides of `then` the last step found due; called with
  // `lock` held after dispatch(), and releases it while hooks run.
  void start_right_sides(std::unique_lock<std::mutex>& lock);
  // Tells the observer what happened and passes lines to their callbacks, with no lock held: called by whoever
  // drives the run after each step. An observer that throws ends the run with
  // that exception (rethrown here if `rethrow`).
  void deliver_events(bool rethrow);
  // Whether deliver_events() has anything to do; called with `mutex` held.
  bool has_events() const noexcept { return !pending_events_.empty() || pump_.has_lines(); }

  // try_wait(): looks at the processes and streams now, not at what the
  // background thread saw last (it may not have woken yet): reaps what has
  // exited and reads what is there, on the calling thread. Whether the run
  // has finished. Takes `mutex`.
  bool check_now();
  // How often check_now() dispatched events itself: a driver whose
  // descriptors were collected before that must collect them again.
  std::uint64_t checks() const noexcept { return checks_; }

  // --- event loop steps, called with `mutex` held: what to wait for, and
  // (once the loop has waited on `list`) what it did
  void collect(os::wait_list& list);
  // The earliest timer of this run, if any.
  std::optional<steady_time> next_deadline() const;
  void dispatch(os::wait_list& list);
  // The event loop cannot wait any more (poll failed): kill, reap, and finish
  // the run with an error naming the cause.
  void abandon_supervision(const std::error_code& error);
  // Something threw while this run was being driven or started (bad_alloc in
  // a capture, an observer, a failed start): kill, reap, and finish the run
  // with that exception, which result() then rethrows. Never throws.
  void end_with(std::exception_ptr failure) noexcept;
  bool finished() const noexcept { return state_ == run_state::finished; }
  // Started before this process was forked from the one that started it: its
  // children belong to the parent process, so this copy must not signal, wait
  // for or reap them (and its mutex may have been copied locked).
  bool foreign() const noexcept;
  // Throws ductile::error for a foreign run.
  void refuse_if_foreign() const;

  // Drives the loop on the calling thread until the run has finished.
  void drive_to_completion();

  // The background thread drives it: another thread that changes what it
  // waits for must wake that thread.
  void set_adopted() noexcept { adopted_.store(true, std::memory_order_release); }
  // Wakes the background thread to step this run, if it drives it.
  void nudge_driver() const noexcept;

  // --- whoever must hear when the run finishes (a pool)
  // Called once, with no lock held, on the thread that saw the run finish.
  void set_on_finished(std::function<void()> callback);
  void notify_if_finished();
  const expression& command() const noexcept { return tree_; }
  // A pool over hosts: the form of the job for the host it got; only while queued.
  void retarget(expression tree);

  // --- the handle's view, each takes `mutex` itself
  // end_with(failure) under the lock, then notify_if_finished().
  void fail(std::exception_ptr failure);
  bool is_finished();
  // Blocks until finished, or until `deadline`; whether it has finished.
  bool await_finish(const std::optional<steady_time>& deadline);
  // Throws the run's failure (spawn_error or status_error) if there is one.
  const output& result();
  // result() by value, moved out: for run() and read(), whose run nobody else sees.
  output take_result();
  // Whether the finished run counts as a failure (what result() would throw).
  bool failed();
  // A queued run is cancelled; a running one gets SIGKILL. Returns at once.
  void request_kill();
  // The pool stops it: a queued run is cancelled; a running one gets SIGTERM
  // (its process groups too) now and SIGKILL `grace` later, starts nothing
  // new, and fails with cancelled_error. Returns at once.
  void request_stop(std::chrono::nanoseconds grace);
  // request_kill(), then waits until the run has finished.
  void kill();
  void send_signal(int signal);
  std::vector<process_id> pids();
#if defined(__linux__)
  // The live processes and their descendants, sampled under the lock, so
  // that none of ours can be reaped (and its pid reused) meanwhile.
  std::vector<proc::process_sample> processes();
#endif
  // An interrupt_guard's signal: forwarded to every live process, and the
  // run ends with interrupted_error. False when the run has nothing left to
  // interrupt (finished, or this is a forked child's copy). Takes `mutex`.
  bool interrupt(int signal);
  // Sets the window of the run's pseudo-terminals. Takes `mutex`.
  void resize(pty_size size);
  // The process-wide list of live runs (run/interrupt.hpp); guarded by its mutex.
  struct links {
    execution* prev = nullptr;
    execution* next = nullptr;
  } interrupt_links;

  // A descriptor that becomes readable when the run has finished; owned here.
  int completion_fd();
  native_handle_type completion_handle() { return sys::native_handle_of(completion_fd()); }
  // The stdin_pipe() channel; throws ductile::error if the tree has none.
  std::shared_ptr<input_channel> input();
  // Closes the stdin_pipe(), if any: waiting for a run closes its input.
  void close_input();

  std::mutex mutex;
  std::condition_variable changed;  // notified when the run finishes

 private:
  bool may_launch() const noexcept { return state_ == run_state::running; }
  void launch_subtree(job& j, std::unique_lock<std::mutex>& lock);
  void launch_leaf(job& leaf, std::unique_lock<std::mutex>& lock);
  void launch_one(job& leaf, prepared_spawn& prepared);
  void start_due_right_sides(std::unique_lock<std::mutex>& lock);
  void finish_unstarted(job& j);
  void carry_out_signals() noexcept;
  // `signal` to the processes in `scope` (null: all), their groups, and every
  // own_cgroup() inside it.
  void signal_everything(const job* scope, int signal) noexcept;
  // Kills, empties and removes the run's cgroups, inner ones first.
  void end_cgroups() noexcept;
  // Stops the run: SIGKILL to all, nothing new starts. A null `failure` is a kill.
  void abandon(std::exception_ptr failure) noexcept;
  void cancel_unstarted();
  void update_finished();
  void notice_far_side_end(const tracked_process& process);
  void build_output();
  void mark_finished();
  // result() with `mutex` held.
  const output& result_locked();

  expression tree_;
  run_state state_ = run_state::queued;
  job_tree jobs_;
  process_table processes_;
#if defined(__linux__)
  proc::sampler sampler_;  // CPU % between two calls of processes()
#endif
  stream_pump pump_;
  using observed_event = std::variant<spawn_event, exit_event>;
  std::vector<observed_event> pending_events_;  // for the observer, outside the lock
  bool delivering_events_ = false;
  std::uint64_t checks_ = 0;  // see checks()
  sys::event completion_;
  std::exception_ptr failure_;
  std::exception_ptr far_side_failure_;                            // an on() subtree's ssh or srun could not run it
  std::vector<std::string> far_side_notes_;                        // why far sides ended, for messages
  std::vector<std::pair<std::string, std::string>> cluster_jobs_;  // a Slurm job's position and id
  int interrupted_ = 0;                                            // the signal an interrupt_guard forwarded
  bool cancelled_ = false;                                         // its pool stopped it, or its pool handle was killed
  bool killed_by_owner_ = false;        // cancelled_ by kill() on its handle, not by its pool
  bool pooled_ = false;                 // a pool's job: kill() on its handle cancels it
  std::optional<steady_time> kill_at_;  // request_stop(): when SIGKILL follows SIGTERM
  output output_;
  std::function<void()> on_finished_;  // emptied once called
  unsigned generation_;                // the fork generation of the process that made this run
  std::atomic<bool> adopted_{false};
};

// Increases in every child forked from this process; a run made in an older
// generation is foreign. Defined with the background driver, which installs
// the pthread_atfork handlers.
unsigned fork_generation() noexcept;

}  // namespace ductile::detail
