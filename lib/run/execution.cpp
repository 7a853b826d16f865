#include "run/execution.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <ductile/error.hpp>
#include <ductile/format.hpp>

#include "model/failure.hpp"
#include "model/status_message.hpp"
#include "os/cgroup.hpp"
#include "os/stop.hpp"
#include "os/system_calls.hpp"
#include "remote/far_side.hpp"
#include "run/driver.hpp"
#include "run/observe.hpp"

namespace ductile::detail {

DUCTILE_INLINE std::chrono::nanoseconds time_until(const std::optional<steady_time>& deadline) {
  if (!deadline) return std::chrono::nanoseconds(-1);
  const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(*deadline - std::chrono::steady_clock::now());
  if (left <= std::chrono::nanoseconds::zero()) return std::chrono::nanoseconds::zero();
  return std::min<std::chrono::nanoseconds>(left, std::chrono::seconds(1000));
}

DUCTILE_INLINE execution::execution(expression tree)
    : tree_(std::move(tree)), pump_(tree_), generation_(fork_generation()) {
  join_interruptible(*this);
}

DUCTILE_INLINE execution::~execution() {
  leave_interruptible(*this);
  if (foreign()) return;  // the parent process's children: not ours to kill
  // Handles kill and wait before letting go; this is the last line of defence
  // against zombies when a run is dropped half-way (a failed start, say).
  processes_.signal(nullptr, os::force_to_stop);
  processes_.reap_all_blocking();
  end_cgroups();
}

DUCTILE_INLINE bool execution::foreign() const noexcept { return generation_ != fork_generation(); }

DUCTILE_INLINE void execution::start(context&& initial) {
  bool observed;
  {
    std::unique_lock<std::mutex> lock(mutex);
    if (state_ != run_state::queued) return;  // a queued run cancelled before its turn
    if (interrupted_ != 0) {
      cancel_unstarted();
      lock.unlock();
      notify_if_finished();
      return;
    }
    state_ = run_state::running;
    try {
      jobs_.plant(lower(*tree_.tree(), std::move(initial), pump_));
      launch_subtree(*jobs_.root(), lock);
      if (!may_launch()) finish_unstarted(*jobs_.root());  // killed while its hooks ran
      start_right_sides(lock);
    } catch (...) {
      processes_.signal(nullptr, os::force_to_stop);
      processes_.reap_all_blocking();
      throw;
    }
    update_finished();
    observed = has_events();
  }
  if (observed) deliver_events(true);
}

// Spawns the subtree's processes left to right. Stops early once the run is
// stopping; the caller finishes what never started.
DUCTILE_INLINE void execution::launch_subtree(job& j, std::unique_lock<std::mutex>& lock) {
  switch (j.type) {
    case job::kind::process: launch_leaf(j, lock); break;
    case job::kind::pipe:
      launch_subtree(*j.left, lock);
      if (may_launch()) launch_subtree(*j.right, lock);
      break;
    case job::kind::then:
    case job::kind::unchecked:
    case job::kind::accept:
    case job::kind::contained: launch_subtree(*j.left, lock); break;
    case job::kind::scope:
      jobs_.enter_scope(j);
      launch_subtree(*j.left, lock);
      break;
  }
}

// Hooks are user code, so they run with the lock released: a hook may call
// back into its own handle. Nobody else touches the launch meanwhile (it
// belongs to the thread that lowered it); a kill() that comes in is seen once
// the lock is back. Without hooks nothing is released.
DUCTILE_INLINE void execution::launch_leaf(job& leaf, std::unique_lock<std::mutex>& lock) {
  if (!may_launch()) return;
  prepared_spawn prepared;
  if (leaf.launch->settings.hooks.empty()) {
    prepare_spawn(std::move(*leaf.launch), prepared);
  } else {
    lock.unlock();
    try {
      prepare_spawn(std::move(*leaf.launch), prepared);
    } catch (...) {
      lock.lock();
      throw;
    }
    lock.lock();
    if (!may_launch()) return;
  }
  leaf.launch.reset();
  launch_one(leaf, prepared);
}

DUCTILE_INLINE void execution::launch_one(job& leaf, prepared_spawn& prepared) {
  const bool observed = observing();
  std::string command;
  if (observed) {
    command = prepared.command_text();
    if (tracing()) print_trace(command);
  }
  processes_.reserve_one();
  if (observed) pending_events_.reserve(pending_events_.size() + 1);
  tracked_process& entry = processes_.add(spawn_prepared(prepared), leaf);
  entry.remote = std::move(prepared.launch.remote);
  if (observed) {
    entry.started = std::chrono::steady_clock::now();
    entry.command = std::move(command);
    pending_events_.emplace_back(spawn_event{entry.command, entry.record.pid});
  }
}

DUCTILE_INLINE void execution::start_right_sides(std::unique_lock<std::mutex>& lock) {
  if (jobs_.right_sides_due.empty()) return;
  start_due_right_sides(lock);
  update_finished();  // a right side that could not start may have ended the run
}

DUCTILE_INLINE void execution::start_due_right_sides(std::unique_lock<std::mutex>& lock) {
  while (!jobs_.right_sides_due.empty()) {
    job& then_job = *jobs_.right_sides_due.front();
    jobs_.right_sides_due.erase(jobs_.right_sides_due.begin());
    auto tree = std::move(then_job.deferred);
    context ctx = std::move(*then_job.deferred_context);
    then_job.deferred_context.reset();
    if (!may_launch()) {
      jobs_.complete(then_job, then_job.left->result, true);
      continue;
    }
    try {
      then_job.right = lower(*tree, std::move(ctx), pump_);
      then_job.right->parent = &then_job;
      launch_subtree(*then_job.right, lock);
      if (!may_launch()) finish_unstarted(*then_job.right);
    } catch (...) {
      abandon(std::current_exception());
      if (!then_job.right) {
        jobs_.complete(then_job, then_job.left->result, true);
      } else {
        // What did start is killed and reaped as usual; the parts that never
        // started are finished here so that the sequence can end.
        finish_unstarted(*then_job.right);
      }
    }
  }
}

DUCTILE_INLINE void execution::finish_unstarted(job& j) {
  // Killed before its turn, or its start failed.
  jobs_.finish_unstarted(j, failure_ ? exit_status::exited(127) : os::forced_stop_status());
}

DUCTILE_INLINE void execution::abandon(std::exception_ptr failure) noexcept {
  if (!failure_) failure_ = std::move(failure);
  if (state_ != run_state::finished) state_ = run_state::stopping;
  pump_.stop_at_exit();
  signal_everything(nullptr, os::force_to_stop);
}

namespace {

void signal_cgroups(job& j, const job* scope, int signal, bool inside) noexcept {
  inside = inside || &j == scope;
  if (inside && j.cgroup) j.cgroup->signal_all(signal);
  if (j.left) signal_cgroups(*j.left, scope, signal, inside);
  if (j.right) signal_cgroups(*j.right, scope, signal, inside);
}

// Ends every own_cgroup() of the tree and adds up what they used; inner
// ones first, since a cgroup with children cannot be removed.
void finish_cgroups(job& j, std::optional<cgroup_usage>& total) noexcept {
  if (j.left) finish_cgroups(*j.left, total);
  if (j.right) finish_cgroups(*j.right, total);
  if (j.cgroup) {
    const cgroup_usage& used = j.cgroup->finish();
    if (!total) total.emplace();
    total->cpu_time += used.cpu_time;
    if (used.memory_peak_bytes)
      total->memory_peak_bytes = std::max(total->memory_peak_bytes.value_or(0), *used.memory_peak_bytes);
  }
}

}  // namespace

DUCTILE_INLINE void execution::end_cgroups() noexcept {
  if (!jobs_.planted()) return;
  std::optional<cgroup_usage> ignored;
  finish_cgroups(*jobs_.root(), ignored);
}

DUCTILE_INLINE void execution::signal_everything(const job* scope, int signal) noexcept {
  processes_.signal(scope, signal);
  if (jobs_.planted()) signal_cgroups(*jobs_.root(), scope, signal, scope == nullptr);
}

DUCTILE_INLINE void execution::carry_out_signals() noexcept {
  for (const auto& due : jobs_.signals_due) {
    // A timeout does not wait for a grandchild that may hold the pipes.
    pump_.stop_at_exit();
    signal_everything(due.scope, due.signal);
  }
  jobs_.signals_due.clear();
}

DUCTILE_INLINE std::optional<steady_time> execution::next_deadline() const {
  auto next = jobs_.next_deadline();
  if (kill_at_ && (!next || *kill_at_ < *next)) next = kill_at_;
  if (const auto retry = processes_.next_retry(); retry && (!next || *retry < *next)) next = retry;
  if (const auto look = pump_.next_deadline(); look && (!next || *look < *next)) next = look;
  return next;
}

DUCTILE_INLINE void execution::collect(os::wait_list& list) {
  list.reserve(list.size() + pump_.most_waits() + processes_.size());
  pump_.collect(list);
  processes_.collect(list);
}

DUCTILE_INLINE void execution::dispatch(os::wait_list& list) {
  list.complete();
  if (kill_at_ && std::chrono::steady_clock::now() >= *kill_at_) {
    kill_at_.reset();
    signal_everything(nullptr, os::force_to_stop);
  }
  if (jobs_.has_timers()) {
    jobs_.run_timers(std::chrono::steady_clock::now());
    carry_out_signals();
  }
  pump_.dispatch();
  pump_.run_timers(std::chrono::steady_clock::now());
  processes_.dispatch([this](tracked_process& process) {
    if (process.remote) notice_far_side_end(process);
    if (!process.command.empty())
      pending_events_.emplace_back(exit_event{process.command, process.record.pid, process.record.status,
                                              std::chrono::steady_clock::now() - process.started});
    jobs_.complete(*process.owner,
                   job_result{process.record.status, !process.record.status.success(), false, process.owner},
                   !may_launch());
  });
  update_finished();
}

// What the far side's transport learned: its own failure (the first one
// wins), why it ended, and a cluster's job.
DUCTILE_INLINE void execution::notice_far_side_end(const tracked_process& process) {
  far_side_report report;
  try {
    report = process.remote->ended(to_string(tree_), process.record.status, process.signalled);
  } catch (...) {
    if (!far_side_failure_) far_side_failure_ = std::current_exception();
    return;
  }
  if (report.failure && !far_side_failure_) far_side_failure_ = std::move(report.failure);
  if (!report.note.empty()) far_side_notes_.push_back(std::move(report.note));
  if (report.job) cluster_jobs_.emplace_back(process.owner->position, std::move(*report.job));
  if (report.usage) {
    if (!output_.cluster_usage) output_.cluster_usage = job_usage{};
    output_.cluster_usage->cpu_time += report.usage->cpu_time;
    if (report.usage->memory_peak_bytes)
      output_.cluster_usage->memory_peak_bytes =
          output_.cluster_usage->memory_peak_bytes.value_or(0) + *report.usage->memory_peak_bytes;
  }
}

DUCTILE_INLINE void execution::update_finished() {
  // An own_cgroup() subtree has ended: what it left behind (a daemon that
  // escaped its process group, say) dies now, and lets go of the pipes.
  for (job* ended : jobs_.cgroups_ended) ended->cgroup->signal_all(os::force_to_stop);
  jobs_.cgroups_ended.clear();
  // Finished only once observers have heard of every process: whoever waits
  // for the run may rely on that.
  if (finished() || !jobs_.finished() || !pending_events_.empty() || delivering_events_) return;
  if (pump_.still_flowing()) return;
  build_output();
  mark_finished();
}

DUCTILE_INLINE void execution::mark_finished() {
  state_ = run_state::finished;
  if (completion_) sys::signal_event(completion_);
  changed.notify_all();
  // Finished by another thread (a kill, a failed observer): the background
  // thread gets no event for it any more, and must let go of it.
  if (!background_driver::on_driver_thread()) nudge_driver();
}

DUCTILE_INLINE void execution::nudge_driver() const noexcept {
  if (adopted_.load(std::memory_order_acquire)) background_driver::nudge(this);
}

DUCTILE_INLINE void execution::build_output() {
  if (!jobs_.planted()) return;
  output_.status = jobs_.result().status;
  finish_cgroups(*jobs_.root(), output_.cgroup);
  output_.stdout_bytes = pump_.take(stdio::out);
  output_.stderr_bytes = pump_.take(stdio::err);
  output_.combined_bytes = pump_.take_combined();
  output_.processes = processes_.records();
  if (!cluster_jobs_.empty()) {
    std::sort(cluster_jobs_.begin(), cluster_jobs_.end());
    std::string ids;
    for (const auto& [position, id] : cluster_jobs_) ids += (ids.empty() ? "" : ",") + id;
    output_.cluster_job = std::move(ids);
  }
}

DUCTILE_INLINE void execution::refuse_if_foreign() const {
  if (!foreign()) return;
  const std::string command = to_string(tree_);
  throw ductile::error(
      fmt::format("command {} was started by the parent process before fork(): only that process can wait for it",
                  command),
      command);
}

DUCTILE_INLINE bool execution::await_finish(const std::optional<steady_time>& deadline) {
  refuse_if_foreign();
  std::unique_lock<std::mutex> lock(mutex);
  if (!deadline) {
    changed.wait(lock, [this] { return finished(); });
    return true;
  }
  return changed.wait_until(lock, *deadline, [this] { return finished(); });
}

DUCTILE_INLINE bool execution::check_now() {
  refuse_if_foreign();
  std::unique_lock<std::mutex> lock(mutex);
  if (finished()) return true;
  // Callbacks and hooks run on the thread that drives the run: with any due,
  // that thread finishes the run.
  if (state_ == run_state::queued || delivering_events_ || has_events()) return false;
  const std::uint64_t before = checks_;
  os::wait_list list;
  // A stream's last bytes and its end take a read each: a few rounds, while
  // anything is ready (bounded: a grandchild may keep writing).
  // Children held by pid have nothing to poll: they are looked at now.
  bool retrying = processes_.retry_now();
  for (int round = 0; round < 8 && !finished() && !has_events(); ++round) {
    list.clear();
    collect(list);
    if (os::wait_for(list, std::chrono::nanoseconds(0))) break;
    if (!list.any_ready() && !std::exchange(retrying, false)) break;
    ++checks_;
    dispatch(list);
  }
  // A right side to start or lines to hand out: the driver's to do.
  if (!finished() && checks_ != before) nudge_driver();
  return finished();
}

DUCTILE_INLINE const output& execution::result() {
  std::lock_guard<std::mutex> lock(mutex);
  return result_locked();
}

DUCTILE_INLINE const output& execution::result_locked() {
  if (interrupted_ != 0) {
    const std::string command = to_string(tree_);
    interrupt_thrown();
    throw interrupted_error(fmt::format("command {} was interrupted by {}", command, signal_name(interrupted_)),
                            command, interrupted_);
  }
  if (failure_) std::rethrow_exception(failure_);
  if (far_side_failure_) std::rethrow_exception(far_side_failure_);
  if (cancelled_) {
    const std::string command = to_string(tree_);
    if (killed_by_owner_) throw cancelled_error(fmt::format("command {} was cancelled", command), command, output_);
    throw cancelled_error(fmt::format("command {} was stopped by its pool", command), command, output_);
  }
  if (!jobs_.planted()) return output_;
  const job_result& ended = jobs_.result();
  if (!ended.failed) return output_;
  const std::string command = to_string(tree_);
  if (ended.timed_out) throw timeout_error(timeout_message(command, output_), command, output_);
  // In a tree of several processes, the message first names the one whose status decided.
  std::string stage;
  if (output_.processes.size() > 1 && ended.decided_by != nullptr && ended.decided_by->command != nullptr)
    stage = subtree_text(*ended.decided_by->command);
  std::string notes;
  for (const auto& note : far_side_notes_) notes += (notes.empty() ? "" : "; ") + note;
  throw status_error(failure_message(command, stage, output_, notes), command, output_);
  return output_;
}

DUCTILE_INLINE void execution::abandon_supervision(const std::error_code& error) {
  if (finished()) return;
  std::exception_ptr failure;
  try {
    const std::string command = to_string(tree_);
    failure = std::make_exception_ptr(ductile::error(
        fmt::format("command {} cannot be supervised: poll failed: {}", command, error.message()), command));
  } catch (...) {
    failure = std::current_exception();
  }
  end_with(std::move(failure));
}

DUCTILE_INLINE void execution::end_with(std::exception_ptr failure) noexcept {
  if (finished()) return;
  abandon(std::move(failure));
  processes_.reap_all_blocking();  // everything was just forced to stop
  pump_.close_all();
  try {
    build_output();
  } catch (...) {
  }
  mark_finished();
}

DUCTILE_INLINE void execution::fail(std::exception_ptr failure) {
  {
    std::lock_guard<std::mutex> lock(mutex);
    end_with(std::move(failure));
  }
  notify_if_finished();
}

DUCTILE_INLINE bool execution::is_finished() {
  std::lock_guard<std::mutex> lock(mutex);
  return finished();
}

DUCTILE_INLINE output execution::take_result() {
  std::lock_guard<std::mutex> lock(mutex);
  result_locked();
  return std::move(output_);
}

DUCTILE_INLINE void execution::drive_to_completion() {
  os::wait_list list;
  std::unique_lock<std::mutex> lock(mutex);
  while (!finished()) {
    list.clear();
    collect(list);
    const auto wait = time_until(next_deadline());
    const sys::event* interrupts = interrupt_event();
    const std::size_t interrupt_place = interrupts != nullptr ? list.add_event(*interrupts) : list.size();
    lock.unlock();
    const auto error = os::wait_for(list, wait);
    // With no lock held: forwarding takes the lock of every live run.
    if (!error && interrupt_place < list.size() && (list.ready(interrupt_place) || interrupt_pending()))
      forward_interrupt();
    lock.lock();
    if (error) {
      abandon_supervision(error);
      return;
    }
    try {
      dispatch(list);
      start_right_sides(lock);
    } catch (...) {
      end_with(std::current_exception());
    }
    if (has_events()) {
      lock.unlock();
      deliver_events(false);
      lock.lock();
    }
  }
}

DUCTILE_INLINE void execution::deliver_events(bool rethrow) {
  std::vector<observed_event> events;
  std::vector<line_batch> lines;
  std::exception_ptr failure;
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (!has_events()) return;
    events.swap(pending_events_);
    try {
      pump_.take_lines(lines);
    } catch (...) {
      failure = std::current_exception();
    }
    delivering_events_ = true;
  }
  try {
    if (auto o = current_observer()) {
      for (const auto& event : events) {
        if (const auto* spawned = std::get_if<spawn_event>(&event))
          o->spawned(*spawned);
        else
          o->exited(std::get<exit_event>(event));
      }
    }
    if (!failure)
      for (const auto& batch : lines) deliver_lines(batch);
  } catch (...) {
    failure = std::current_exception();
  }
  std::lock_guard<std::mutex> lock(mutex);
  delivering_events_ = false;
  if (failure) {
    // A failing observer or line callback ends the run it was told about.
    end_with(failure);
    if (rethrow) std::rethrow_exception(failure);
    return;
  }
  update_finished();
}

DUCTILE_INLINE int execution::completion_fd() {
  refuse_if_foreign();
  std::lock_guard<std::mutex> lock(mutex);
  if (!completion_) {
    // Level-triggered: once finished it stays readable, for every poller.
    if (const auto error = sys::make_event(finished() ? 1 : 0, completion_)) {
      const std::string command = to_string(tree_);
      throw ductile::error(
          fmt::format("command {}: cannot make its completion descriptor: {}", command, error.message()), command);
    }
  }
  return completion_.readable.get();
}

// Whether the tree asks for stdin_pipe() anywhere.
DUCTILE_INLINE bool has_caller_pipe(const node& n) {
  if (const auto* m = std::get_if<modifier_node>(&n.value)) {
    if (const auto* r = modifier_as<redirect>(m->change); r != nullptr && r->kind == redirect_kind::caller_pipe)
      return true;
    return has_caller_pipe(*m->inner);
  }
  if (const auto* p = std::get_if<pipe_node>(&n.value)) return has_caller_pipe(*p->left) || has_caller_pipe(*p->right);
  if (const auto* t = std::get_if<then_node>(&n.value)) return has_caller_pipe(*t->left) || has_caller_pipe(*t->right);
  return false;
}

DUCTILE_INLINE std::shared_ptr<input_channel> execution::input() {
  refuse_if_foreign();
  if (!has_caller_pipe(*tree_.tree())) {
    const std::string command = to_string(tree_);
    throw ductile::error(fmt::format("command {} has no stdin_pipe(): there is no input to write", command), command);
  }
  std::lock_guard<std::mutex> lock(mutex);
  return pump_.input();
}

// A forked child must not touch the run's locks: the parent's background
// thread may have held them at fork(), and nothing would ever release them.
DUCTILE_INLINE void execution::close_input() {
  if (foreign()) return;
  std::shared_ptr<input_channel> channel;
  {
    std::lock_guard<std::mutex> lock(mutex);
    channel = pump_.existing_input();
    if (!channel) pump_.close_input_when_made();
  }
  // Outside the run's lock: a write in progress holds the channel's lock.
  if (channel) channel->close();
}

DUCTILE_INLINE void execution::set_on_finished(std::function<void()> callback) {
  std::lock_guard<std::mutex> lock(mutex);
  on_finished_ = std::move(callback);
  pooled_ = true;  // only a pool follows its jobs' ends
}

DUCTILE_INLINE void execution::notify_if_finished() {
  std::function<void()> callback;
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (!finished() || !on_finished_) return;
    callback.swap(on_finished_);
  }
  callback();
}

// Killed while still queued: it never starts, and fails as cancelled.
DUCTILE_INLINE void execution::cancel_unstarted() {
  output_.status = os::forced_stop_status();
  try {
    const std::string command = to_string(tree_);
    failure_ = std::make_exception_ptr(
        cancelled_error(fmt::format("command {} was cancelled before it started", command), command, output_));
  } catch (...) {
    failure_ = std::current_exception();
  }
  mark_finished();
}

DUCTILE_INLINE void execution::retarget(expression tree) {
  std::lock_guard<std::mutex> lock(mutex);
  if (state_ == run_state::queued) tree_ = std::move(tree);
}

DUCTILE_INLINE bool execution::failed() {
  try {
    result();
    return false;
  } catch (const std::exception&) {
    return true;
  }
}

DUCTILE_INLINE void execution::request_kill() {
  if (foreign()) return;
  {
    std::lock_guard<std::mutex> lock(mutex);
    switch (state_) {
      case run_state::queued: cancel_unstarted(); break;
      case run_state::running:
        // A pool's job killed through its handle is cancelled, as it is
        // before it starts: the pool's callers tell it from a job that died
        // of a signal on its own.
        if (pooled_) {
          cancelled_ = true;
          killed_by_owner_ = true;
        }
        abandon(nullptr);  // killed, not failed
        // A run whose processes are all gone but whose pipes are still held
        // open ends now, without waiting for an event.
        nudge_driver();
        return;
      case run_state::stopping:
      case run_state::finished: return;
    }
  }
  notify_if_finished();
}

DUCTILE_INLINE void execution::request_stop(std::chrono::nanoseconds grace) {
  if (foreign()) return;
  {
    std::lock_guard<std::mutex> lock(mutex);
    switch (state_) {
      case run_state::queued: cancel_unstarted(); break;
      case run_state::running:
        cancelled_ = true;
        state_ = run_state::stopping;
        pump_.stop_at_exit();
        signal_everything(nullptr, os::ask_to_stop);
        kill_at_ = std::chrono::steady_clock::now() + grace;
        break;
      case run_state::stopping:
      case run_state::finished: return;
    }
  }
  // The driver's wait was set before this deadline existed.
  nudge_driver();
  notify_if_finished();
}

DUCTILE_INLINE void execution::kill() {
  if (foreign()) return;
  request_kill();
  std::unique_lock<std::mutex> lock(mutex);
  changed.wait(lock, [this] { return finished(); });
}

DUCTILE_INLINE void execution::resize(pty_size size) {
  if (foreign()) return;
  std::lock_guard<std::mutex> lock(mutex);
  pump_.resize_terminals(size);
}

// Called with the process-wide list of runs locked, so it only marks and
// signals: ending a queued run here would call its pool back under that lock.
// A queued run ends when its turn comes (start()).
DUCTILE_INLINE bool execution::interrupt(int signal) {
  if (foreign()) return false;
  std::lock_guard<std::mutex> lock(mutex);
  if (finished()) return false;
  interrupted_ = signal;
  if (state_ != run_state::queued) signal_everything(nullptr, signal);
  nudge_driver();
  return true;
}

DUCTILE_INLINE void execution::send_signal(int signal) {
  if (foreign()) return;
  std::lock_guard<std::mutex> lock(mutex);
  processes_.signal(nullptr, signal);
}

DUCTILE_INLINE std::vector<process_id> execution::pids() {
  if (foreign()) return {};
  std::lock_guard<std::mutex> lock(mutex);
  return processes_.pids();
}

#if defined(__linux__)
DUCTILE_INLINE std::vector<proc::process_sample> execution::processes() {
  if (foreign()) return {};
  std::lock_guard<std::mutex> lock(mutex);
  std::vector<proc::process_sample> samples;
  for (const pid_t pid : processes_.live_pids()) {
    auto own = sampler_.sample(pid);
    if (!own) continue;
    samples.push_back(std::move(*own));
    try {
      for (const pid_t below : proc::process(pid).descendants())
        if (auto sample = sampler_.sample(below)) samples.push_back(std::move(*sample));
    } catch (const proc::no_such_process&) {
    }
  }
  return samples;
}
#endif

}  // namespace ductile::detail
