#pragma once
// Supervision: one run of an expression. It owns the processes, the capture
// pipes, the stdin feeders and the pending right sides of `then`, and it is
// driven by an event loop in steps: collect() says what to wait for, dispatch()
// handles what happened. Whoever drives it (the caller of run(), or the shared
// background thread) holds `mutex` around each step.

#include <sys/types.h>

#include <condition_variable>
#include <ductile/expression.hpp>
#include <ductile/observe.hpp>
#include <ductile/output.hpp>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "os/linux/spawn.hpp"
#include "plan/plan.hpp"
#include "run/capture_buffer.hpp"

namespace ductile::detail {

// Milliseconds for poll() until `deadline` (rounded up), or -1 for none.
int milliseconds_until(const std::optional<steady_time>& deadline);

class execution final : public stream_sink {
 public:
  explicit execution(expression tree);
  ~execution() override;
  execution(const execution&) = delete;
  execution& operator=(const execution&) = delete;

  // Lowers the tree and spawns its first processes; takes `mutex` itself and
  // releases it while hooks and observers run. If anything fails, what
  // already started is killed and reaped before the exception propagates.
  // Does nothing for a run already started or cancelled.
  void start(context initial);
  // Starts the right sides of `then` that dispatch() found due; called with
  // `lock` held after dispatch(), and releases it while hooks run.
  void start_right_sides(std::unique_lock<std::mutex>& lock);
  // Tells the observer what happened, with no lock held: called by whoever
  // drives the run after each step. An observer that throws ends the run with
  // that exception (rethrown here if `rethrow`).
  void deliver_events(bool rethrow);
  // Whether deliver_events() has anything to do; called with `mutex` held.
  bool has_events() const noexcept { return !pending_events_.empty(); }

  // --- event loop steps, called with `mutex` held
  void collect(std::vector<pollfd>& fds);
  // The earliest timer of this run, if any.
  std::optional<steady_time> next_deadline() const;
  void dispatch(const pollfd* fds, std::size_t count);
  // The event loop cannot wait any more (poll failed): kill, reap, and finish
  // the run with an error naming the cause.
  void abandon_supervision(const std::error_code& error);
  // Something threw while this run was being driven (bad_alloc in a capture,
  // an observer): kill, reap, and finish the run with that exception, which
  // result() then rethrows. Never throws.
  void end_with(std::exception_ptr failure) noexcept;
  bool finished() const noexcept { return finished_; }
  // Started before this process was forked from the one that started it: its
  // children belong to the parent process, so this copy must not signal, wait
  // for or reap them (and its mutex may have been copied locked).
  bool foreign() const noexcept;
  // Throws ductile::error for a foreign run.
  void refuse_if_foreign() const;

  // Drives the loop on the calling thread until the run has finished.
  void drive_to_completion();

  // --- queued runs (a pool): created now, started later or never
  // Called once, with no lock held, on the thread that saw the run finish.
  void set_on_finished(std::function<void()> callback);
  void notify_if_finished();
  // Starts a queued run unless it was cancelled; a failure to start finishes it.
  void start_queued();
  // Finishes a queued run that cannot be started with `failure`, and notifies.
  void fail_unstarted(std::exception_ptr failure);
  const expression& command() const noexcept { return tree_; }
  // For a pool stopping: a running run gets SIGKILL (not waited for here); one
  // not started yet is cancelled, so a launch racing with the stop never starts it.
  void kill_without_waiting();
  // Whether the finished run counts as a failure (what result() would throw).
  bool failed();

  // --- the handle's view, each takes `mutex` itself
  // Blocks until finished, or until `deadline`; whether it has finished.
  bool await_finish(const std::optional<steady_time>& deadline);
  // Throws the run's failure (spawn_error or status_error) if there is one.
  const output& result();
  // result() by value, moved out: for run() and read(), whose run nobody else sees.
  output take_result();
  void kill();
  void send_signal(int signal);
  std::vector<pid_t> pids();
  // A descriptor that becomes readable when the run has finished; owned here.
  int completion_fd();

  std::mutex mutex;
  std::condition_variable changed;  // notified when the run finishes

  // stream_sink
  stdio_target capture(stdio stream) override;
  stdio_target tee(stdio stream, stdio_target forward) override;
  stdio_target feed(std::shared_ptr<const std::string> bytes) override;

 private:
  struct capture_source {
    unique_fd read;
    int stream;                           // 1 or 2
    std::optional<stdio_target> forward;  // tee: where the bytes also go
    std::string pending;                  // tee: bytes not yet forwarded start at pending_offset;
    std::size_t pending_offset = 0;       //   empty once everything is forwarded
    bool forward_to_file = false;         // tee: the target is a regular file, writes never wait
    bool pipe_grown = false;              // enlarged once a full read showed volume
  };
  struct feeder {
    unique_fd write;
    std::shared_ptr<const std::string> bytes;
    std::size_t offset = 0;
  };
  struct process_entry {
    unique_fd pidfd;  // reset once reaped
    job* owner = nullptr;
    pid_t group = 0;      // its own process group (new_process_group), or 0
    std::string command;  // set only while observed: for the observer's events
    steady_time started;
    process_record record;
    // The pidfd said "exited" but waitid found nothing to reap (a ptrace tracer
    // holds the dead child): instead of polling the always-readable pidfd,
    // retry at this time, backing off.
    std::optional<steady_time> retry_at;
    std::chrono::milliseconds retry_delay{0};
  };
  enum class target_kind { capture, forward, feeder, process };
  struct poll_target {
    target_kind kind;
    std::size_t index;
  };

  pipe_ends make_pipe(const char* what);
  void launch_subtree(job& j, std::unique_lock<std::mutex>& lock);
  void launch_leaf(job& leaf, std::unique_lock<std::mutex>& lock);
  void launch_one(job& leaf, prepared_spawn& prepared);
  void start_due_right_sides(std::unique_lock<std::mutex>& lock);
  void reap(process_entry& process);
  void retry_reaps(steady_time now);
  void cancel_unstarted();
  void complete(job& j, job_result result);
  void finish_unstarted(job& j);
  void abandon(std::exception_ptr failure) noexcept;
  void signal_all(int signal) noexcept;
  void signal_subtree(const job& scope, int signal) noexcept;
  void signal_processes(const job* scope, int signal) noexcept;  // scope nullptr: all
  static bool in_scope(const process_entry& p, const job* scope) noexcept;
  void run_timers(steady_time now);
  bool inside_fired_scope(const job& j) const noexcept;
  void read_capture(capture_source& source);
  void forward_tee(capture_source& source);
  void release_drained_forward(capture_source& source);
  void write_feeder(feeder& f);
  void update_finished();
  void build_output();
  void mark_finished();
  void reap_all_blocking() noexcept;

  expression tree_;
  std::unique_ptr<job> root_;
  std::vector<process_entry> processes_;
  std::vector<capture_source> captures_;
  std::vector<feeder> feeders_;
  std::vector<poll_target> targets_;
  std::vector<job*> limits_;           // timeout() scopes, in the order they started
  std::size_t retries_ = 0;            // processes waiting for a reap retry
  std::vector<job*> right_sides_due_;  // then() nodes whose right side is to start
  using observed_event = std::variant<spawn_event, exit_event>;
  std::vector<observed_event> pending_events_;  // for the observer, outside the lock
  bool delivering_events_ = false;
  bool streams_cut_ = false;  // after a kill or a timeout, stop waiting for EOF
  unique_fd completion_;
  std::weak_ptr<const unique_fd> capture_write_[3];
  capture_buffer captured_[3];
  bool killed_ = false;
  bool finished_ = false;
  std::exception_ptr failure_;
  output output_;
  bool started_ = false;
  bool cancelled_ = false;  // killed while still queued
  std::function<void()> on_finished_;
  bool notified_ = false;
  unsigned generation_;  // the fork generation of the process that made this run
};

// Increases in every child forked from this process; a run made in an older
// generation is foreign. Defined with the background driver, which installs
// the pthread_atfork handlers.
unsigned fork_generation() noexcept;

}  // namespace ductile::detail
