#include "run/execution.hpp"

#include <fmt/format.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <ductile/error.hpp>
#include <ductile/format.hpp>

#include "os/linux/spawn.hpp"
#include "run/observe.hpp"

namespace ductile::detail {

// Pipes start at the kernel's 64 KiB. One that has filled up carries volume and
// is enlarged: fewer wake-ups per byte. Enlarging every pipe up front would
// spend the user's pipe-buffer quota (fs.pipe-user-pages-soft) on pipes that
// carry a few bytes, and past that quota every new pipe of the user shrinks.
inline constexpr std::size_t large_pipe = 1024 * 1024;
// POLLOUT on a pipe promises room for at least this much without blocking.
inline constexpr std::size_t atomic_pipe_write = 4096;

DUCTILE_INLINE int milliseconds_until(const std::optional<steady_time>& deadline) {
  if (!deadline) return -1;
  const auto left = *deadline - std::chrono::steady_clock::now();
  if (left <= std::chrono::nanoseconds::zero()) return 0;
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  return ms > 1000000 ? 1000000 : static_cast<int>(ms);
}

DUCTILE_INLINE execution::execution(expression tree) : tree_(std::move(tree)), generation_(fork_generation()) {}

DUCTILE_INLINE execution::~execution() {
  if (foreign()) return;  // the parent process's children: not ours to kill
  // Handles kill and wait before letting go; this is the last line of defence
  // against zombies when a run is dropped half-way (a failed start, say).
  signal_all(SIGKILL);
  reap_all_blocking();
}

DUCTILE_INLINE bool execution::foreign() const noexcept { return generation_ != fork_generation(); }

DUCTILE_INLINE pipe_ends execution::make_pipe(const char* what) {
  pipe_ends ends;
  if (const auto error = sys::make_pipe(ends)) {
    const std::string command = to_string(tree_);
    throw spawn_error(fmt::format("cannot run {}: cannot make {}: {}", command, what, error.message()), command, "pipe",
                      error);
  }
  return ends;
}

DUCTILE_INLINE stdio_target execution::capture(stdio stream) {
  const int index = static_cast<int>(stream);
  if (auto existing = capture_write_[index].lock()) return stdio_target{existing->get(), existing};
  pipe_ends ends = make_pipe("a capture pipe");
  sys::set_nonblocking(ends.read.get());
  captures_.push_back(capture_source{std::move(ends.read), index, std::nullopt, {}});
  auto write_end = std::make_shared<const unique_fd>(std::move(ends.write));
  capture_write_[index] = write_end;
  return stdio_target{write_end->get(), write_end};
}

DUCTILE_INLINE stdio_target execution::tee(stdio stream, stdio_target forward) {
  // Forwarding into this very capture would capture every byte twice: where
  // the stream would have gone is already the capture, so capturing is all.
  if (const auto existing = capture_write_[static_cast<int>(stream)].lock())
    if (existing == forward.owner) return forward;
  pipe_ends ends = make_pipe("a tee pipe");
  sys::set_nonblocking(ends.read.get());
  const bool to_file = sys::is_regular_file(forward.fd);
  captures_.push_back(capture_source{std::move(ends.read), static_cast<int>(stream), std::move(forward), {}});
  captures_.back().forward_to_file = to_file;
  auto write_end = std::make_shared<const unique_fd>(std::move(ends.write));
  return stdio_target{write_end->get(), write_end};
}

DUCTILE_INLINE stdio_target execution::feed(std::shared_ptr<const std::string> bytes) {
  pipe_ends ends = make_pipe("a stdin pipe");
  sys::set_nonblocking(ends.write.get());
  if (bytes->size() > large_pipe / 16) sys::resize_pipe(ends.write.get(), large_pipe);
  feeders_.push_back(feeder{std::move(ends.write), std::move(bytes), 0});
  auto read_end = std::make_shared<const unique_fd>(std::move(ends.read));
  return stdio_target{read_end->get(), read_end};
}

DUCTILE_INLINE void execution::start(context initial) {
  bool observed;
  {
    std::unique_lock<std::mutex> lock(mutex);
    if (started_ || cancelled_) return;  // a queued run cancelled before its turn
    started_ = true;
    try {
      root_ = lower(*tree_.tree(), std::move(initial), *this);
      launch_subtree(*root_, lock);
      if (killed_ || failure_) finish_unstarted(*root_);  // killed while its hooks ran
      start_right_sides(lock);
    } catch (...) {
      signal_all(SIGKILL);
      reap_all_blocking();
      throw;
    }
    update_finished();
    observed = has_events();
  }
  if (observed) deliver_events(true);
}

// Spawns the subtree's processes left to right. Stops early once the run is
// killed or has failed; the caller finishes what never started.
DUCTILE_INLINE void execution::launch_subtree(job& j, std::unique_lock<std::mutex>& lock) {
  switch (j.type) {
    case job::kind::process: launch_leaf(j, lock); break;
    case job::kind::pipe:
      launch_subtree(*j.left, lock);
      if (!killed_ && !failure_) launch_subtree(*j.right, lock);
      break;
    case job::kind::then:
    case job::kind::unchecked: launch_subtree(*j.left, lock); break;
    case job::kind::scope:
      j.limit->deadline = std::chrono::steady_clock::now() + j.limit->duration;
      limits_.push_back(&j);
      launch_subtree(*j.left, lock);
      break;
  }
}

// Hooks are user code, so they run with the lock released: a hook may call
// back into its own handle. Nobody else touches the launch meanwhile (it
// belongs to the thread that lowered it); a kill() that comes in is seen once
// the lock is back. Without hooks nothing is released.
DUCTILE_INLINE void execution::launch_leaf(job& leaf, std::unique_lock<std::mutex>& lock) {
  if (killed_ || failure_) return;
  prepared_spawn prepared;
  if (leaf.launch->hooks.empty()) {
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
    if (killed_ || failure_) return;
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
  // Room first: once the process exists, recording it must not fail, or
  // nobody would kill and reap it.
  processes_.reserve(processes_.size() + 1);
  if (observed) pending_events_.reserve(pending_events_.size() + 1);
  spawned_process spawned = spawn_prepared(prepared);
  process_entry& entry = processes_.emplace_back();
  entry.pidfd = std::move(spawned.pidfd);
  entry.owner = &leaf;
  entry.record.program = std::move(spawned.program);
  entry.record.pid = spawned.pid;
  entry.group = spawned.process_group;
  leaf.process_index = static_cast<int>(processes_.size() - 1);
  if (observed) {
    entry.started = std::chrono::steady_clock::now();
    entry.command = std::move(command);
    pending_events_.emplace_back(spawn_event{entry.command, entry.record.pid});
  }
}

DUCTILE_INLINE job_result pipe_result(job_result left, const job_result& right) {
  // Deliberately unlike duct: a writer killed by SIGPIPE only learnt that its
  // reader stopped reading, which is the reader's right.
  if (left.status.signal() == SIGPIPE) left = job_result{};
  if (right.failed) return right;
  if (left.failed) return left;
  if (!right.status.success()) return right;
  return left;
}

DUCTILE_INLINE void execution::complete(job& j, job_result result) {
  j.finished = true;
  j.result = result;
  job* parent = j.parent;
  if (parent == nullptr) return;
  if (parent->type == job::kind::scope) {
    if (parent->limit->fired) {
      result.timed_out = true;
      result.failed = true;
    }
    complete(*parent, result);
  } else if (parent->type == job::kind::unchecked) {
    result.failed = false;
    complete(*parent, result);
  } else if (parent->type == job::kind::pipe) {
    if (parent->left->finished && parent->right->finished)
      complete(*parent, pipe_result(parent->left->result, parent->right->result));
  } else if (&j == parent->left.get()) {
    if (result.failed || killed_ || failure_ || inside_fired_scope(*parent)) {
      parent->deferred.reset();
      parent->deferred_context.reset();
      complete(*parent, result);
    } else {
      // Started by whoever drives the run, once this step is over: lowering
      // is done under the lock, its hooks outside it.
      right_sides_due_.push_back(parent);
    }
  } else {
    complete(*parent, result);
  }
}

DUCTILE_INLINE void execution::start_right_sides(std::unique_lock<std::mutex>& lock) {
  if (right_sides_due_.empty()) return;
  start_due_right_sides(lock);
  update_finished();  // a right side that could not start may have ended the run
}

DUCTILE_INLINE void execution::start_due_right_sides(std::unique_lock<std::mutex>& lock) {
  while (!right_sides_due_.empty()) {
    job& then_job = *right_sides_due_.front();
    right_sides_due_.erase(right_sides_due_.begin());
    auto tree = std::move(then_job.deferred);
    context ctx = std::move(*then_job.deferred_context);
    then_job.deferred_context.reset();
    if (killed_ || failure_) {
      complete(then_job, then_job.left->result);
      continue;
    }
    try {
      then_job.right = lower(*tree, std::move(ctx), *this);
      then_job.right->parent = &then_job;
      launch_subtree(*then_job.right, lock);
      if (killed_ || failure_) finish_unstarted(*then_job.right);
    } catch (...) {
      abandon(std::current_exception());
      if (!then_job.right) {
        complete(then_job, then_job.left->result);
      } else {
        // What did start is killed and reaped as usual; the parts that never
        // started are finished here so that the sequence can end.
        finish_unstarted(*then_job.right);
      }
    }
  }
}

DUCTILE_INLINE void execution::finish_unstarted(job& j) {
  if (j.finished) return;
  if (j.type == job::kind::process) {
    // Never started: killed before its turn, or its start failed.
    const exit_status status = killed_ && !failure_ ? exit_status::killed(SIGKILL) : exit_status::exited(127);
    if (j.process_index < 0) complete(j, job_result{status, true});
    return;
  }
  if (j.left) finish_unstarted(*j.left);
  if (j.right && !j.finished) finish_unstarted(*j.right);
  if (j.type == job::kind::then && !j.finished && !j.right && j.left->finished) complete(j, j.left->result);
}

DUCTILE_INLINE void execution::abandon(std::exception_ptr failure) noexcept {
  if (!failure_) failure_ = std::move(failure);
  killed_ = true;
  signal_all(SIGKILL);
}

DUCTILE_INLINE bool execution::inside_fired_scope(const job& j) const noexcept {
  for (const job* current = &j; current != nullptr; current = current->parent)
    if (current->limit && current->limit->fired) return true;
  return false;
}

DUCTILE_INLINE bool execution::in_scope(const process_entry& p, const job* scope) noexcept {
  return scope == nullptr || p.owner->position.compare(0, scope->position.size(), scope->position) == 0;
}

// Signals go through pidfds, which cannot hit a recycled pid. A process group
// is signalled only while one of our members is unreaped (its pidfd is still
// open): that member keeps the group id from being reused. Nothing here
// allocates, so a kill cannot fail half-way.
DUCTILE_INLINE void execution::signal_processes(const job* scope, int signal) noexcept {
  for (auto& p : processes_) {
    if (!p.pidfd || !in_scope(p, scope)) continue;
    sys::signal_process(p.pidfd.get(), signal);
    if (p.group <= 0) continue;
    bool group_signalled = false;
    for (const auto& earlier : processes_) {
      if (&earlier == &p) break;
      if (earlier.pidfd && earlier.group == p.group && in_scope(earlier, scope)) group_signalled = true;
    }
    if (!group_signalled) sys::signal_group(p.group, signal);
  }
}

DUCTILE_INLINE void execution::signal_all(int signal) noexcept { signal_processes(nullptr, signal); }

DUCTILE_INLINE void execution::signal_subtree(const job& scope, int signal) noexcept {
  signal_processes(&scope, signal);
}

DUCTILE_INLINE std::optional<steady_time> execution::next_deadline() const {
  std::optional<steady_time> next;
  if (retries_ > 0)
    for (const auto& p : processes_)
      if (p.retry_at && (!next || *p.retry_at < *next)) next = p.retry_at;
  for (const job* scope : limits_) {
    if (scope->finished || scope->limit->killed) continue;
    const steady_time when = scope->limit->fired ? scope->limit->kill_at : scope->limit->deadline;
    if (!next || when < *next) next = when;
  }
  return next;
}

DUCTILE_INLINE void execution::run_timers(steady_time now) {
  for (job* scope : limits_) {
    auto& limit = *scope->limit;
    if (scope->finished || limit.killed) continue;
    if (!limit.fired && now >= limit.deadline) {
      limit.fired = true;
      limit.kill_at = now + limit.grace;
      streams_cut_ = true;
      signal_subtree(*scope, SIGTERM);
    } else if (limit.fired && now >= limit.kill_at) {
      limit.killed = true;
      signal_subtree(*scope, SIGKILL);
    }
  }
}

DUCTILE_INLINE exit_status status_from(const siginfo_t& info) {
  switch (info.si_code) {
    case CLD_EXITED: return exit_status::exited(info.si_status);
    case CLD_DUMPED: return exit_status::killed(info.si_status, true);
    default: return exit_status::killed(info.si_status);
  }
}

DUCTILE_INLINE void execution::reap(process_entry& process) {
  siginfo_t info{};
  rusage usage{};
  const auto error = sys::wait_process(process.pidfd.get(), info, WEXITED | WNOHANG, &usage);
  if (!error && info.si_pid == 0) {
    // Readable but not yet waitable: a tracer has not let go of the dead child.
    // Poll would report the pidfd again at once, so wait on a timer instead.
    constexpr std::chrono::milliseconds first_retry{1}, longest_retry{100};
    process.retry_delay = std::min(longest_retry, std::max(first_retry, process.retry_delay * 2));
    if (!process.retry_at) ++retries_;
    process.retry_at = std::chrono::steady_clock::now() + process.retry_delay;
    return;
  }
  if (process.retry_at) {
    process.retry_at.reset();
    --retries_;
  }
  if (error) {
    // Someone else reaped our child (a host calling waitpid(-1)): the status is lost.
    info.si_code = CLD_EXITED;
    info.si_status = 255;
  }
  process.pidfd.reset();
  process.record.status = status_from(info);
  process.record.user_time =
      std::chrono::seconds(usage.ru_utime.tv_sec) + std::chrono::microseconds(usage.ru_utime.tv_usec);
  process.record.system_time =
      std::chrono::seconds(usage.ru_stime.tv_sec) + std::chrono::microseconds(usage.ru_stime.tv_usec);
  process.record.max_rss_kib = static_cast<std::size_t>(usage.ru_maxrss);
  if (!process.command.empty())
    pending_events_.emplace_back(exit_event{process.command, process.record.pid, process.record.status,
                                            std::chrono::steady_clock::now() - process.started});
  job& owner = *process.owner;
  complete(owner, job_result{process.record.status, !process.record.status.success()});
}

DUCTILE_INLINE void execution::retry_reaps(steady_time now) {
  for (auto& p : processes_)
    if (p.retry_at && *p.retry_at <= now && p.pidfd) reap(p);
}

DUCTILE_INLINE void execution::reap_all_blocking() noexcept {
  for (auto& p : processes_) {
    if (!p.pidfd) continue;
    siginfo_t info{};
    if (sys::wait_process(p.pidfd.get(), info, WEXITED, nullptr)) sys::reap_now(p.pidfd.get());
    p.pidfd.reset();
    p.record.status = status_from(info);
  }
}

DUCTILE_INLINE void execution::read_capture(capture_source& source) {
  capture_buffer& buffer = captured_[source.stream];
  // A bounded number of reads per wake-up keeps one busy stream from starving the others.
  for (int round = 0; round < 16; ++round) {
    const auto space = buffer.room();
    std::size_t got = 0;
    const auto error = sys::read_some(source.read.get(), space.data, space.size, got);
    if (error == std::errc::resource_unavailable_try_again) return;
    if (error || got == 0) {
      source.read.reset();
      return;
    }
    buffer.commit(got);
    if (source.forward) source.pending.append(space.data, got);
    if (got < space.size) return;
    if (!source.pipe_grown) {
      source.pipe_grown = true;
      sys::resize_pipe(source.read.get(), large_pipe);
    }
  }
}

DUCTILE_INLINE void execution::forward_tee(capture_source& source) {
  std::size_t done = 0;
  const std::size_t left = source.pending.size() - source.pending_offset;
  // A pipe promises room for only this much when poll says it is writable; a
  // file takes everything.
  const std::size_t size = source.forward_to_file ? left : std::min(left, atomic_pipe_write);
  const auto error = sys::write_some(source.forward->fd, source.pending.data() + source.pending_offset, size, done);
  if (error == std::errc::resource_unavailable_try_again) return;
  if (error || done == left) {
    // Done, or the reader went away (the capture still keeps everything).
    source.pending.clear();
    source.pending_offset = 0;
    return;
  }
  source.pending_offset += done;
  // Dropping the forwarded front only now and then keeps forwarding linear.
  if (source.pending_offset >= source.pending.size() / 2) {
    source.pending.erase(0, source.pending_offset);
    source.pending_offset = 0;
  }
}

// The forward target may be the write end of a pipe to a later stage: it must
// close as soon as everything is forwarded, or that stage never sees EOF.
DUCTILE_INLINE void execution::release_drained_forward(capture_source& source) {
  if (source.forward && !source.read && source.pending.empty()) source.forward.reset();
}

DUCTILE_INLINE void execution::write_feeder(feeder& f) {
  const std::string& bytes = *f.bytes;
  while (f.offset < bytes.size()) {
    std::size_t done = 0;
    const auto error = sys::write_some(f.write.get(), bytes.data() + f.offset, bytes.size() - f.offset, done);
    if (error == std::errc::resource_unavailable_try_again) return;
    if (error) break;  // EPIPE: the child stopped reading, which is its right
    f.offset += done;
  }
  f.write.reset();
}

DUCTILE_INLINE void execution::collect(std::vector<pollfd>& fds) {
  targets_.clear();
  const std::size_t most = captures_.size() * 2 + feeders_.size() + processes_.size();
  fds.reserve(fds.size() + most);
  targets_.reserve(most);
  for (std::size_t i = 0; i < captures_.size(); ++i) {
    auto& c = captures_[i];
    if (c.read) {
      fds.push_back(pollfd{c.read.get(), POLLIN, 0});
      targets_.push_back({target_kind::capture, i});
    }
    if (c.forward && !c.pending.empty()) {
      fds.push_back(pollfd{c.forward->fd, POLLOUT, 0});
      targets_.push_back({target_kind::forward, i});
    }
  }
  for (std::size_t i = 0; i < feeders_.size(); ++i) {
    if (!feeders_[i].write) continue;
    fds.push_back(pollfd{feeders_[i].write.get(), POLLOUT, 0});
    targets_.push_back({target_kind::feeder, i});
  }
  for (std::size_t i = 0; i < processes_.size(); ++i) {
    if (!processes_[i].pidfd || processes_[i].retry_at) continue;
    fds.push_back(pollfd{processes_[i].pidfd.get(), POLLIN, 0});
    targets_.push_back({target_kind::process, i});
  }
}

DUCTILE_INLINE void execution::dispatch(const pollfd* fds, std::size_t count) {
  if (!limits_.empty() || retries_ > 0) {
    const auto now = std::chrono::steady_clock::now();
    if (!limits_.empty()) run_timers(now);
    if (retries_ > 0) retry_reaps(now);
  }
  const std::size_t n = std::min(count, targets_.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (fds[i].revents == 0) continue;
    const auto target = targets_[i];
    switch (target.kind) {
      case target_kind::capture:
        if (captures_[target.index].read) read_capture(captures_[target.index]);
        release_drained_forward(captures_[target.index]);
        break;
      case target_kind::forward:
        forward_tee(captures_[target.index]);
        release_drained_forward(captures_[target.index]);
        break;
      case target_kind::feeder:
        if (feeders_[target.index].write) write_feeder(feeders_[target.index]);
        break;
      case target_kind::process:
        if (processes_[target.index].pidfd) reap(processes_[target.index]);
        break;
    }
  }
  targets_.clear();
  update_finished();
}

DUCTILE_INLINE void execution::update_finished() {
  // Finished only once observers have heard of every process: whoever waits
  // for the run may rely on that.
  if (finished_ || !root_ || !root_->finished || !pending_events_.empty() || delivering_events_) return;
  for (auto& f : feeders_) f.write.reset();  // nobody is left to read them
  bool streams_open = false;
  for (auto& c : captures_) {
    if (c.read && (killed_ || streams_cut_)) {
      // A killed run does not wait for a grandchild that may hold the pipe:
      // keep what is already there and stop.
      read_capture(c);
      c.read.reset();
    }
    if (c.read || (c.forward && !c.pending.empty())) streams_open = true;
    if (!c.read && c.pending.empty()) c.forward.reset();
  }
  if (streams_open) return;
  build_output();
  mark_finished();
}

DUCTILE_INLINE void execution::mark_finished() {
  finished_ = true;
  if (completion_) {
    sys::signal_event(completion_.get());
  }
  changed.notify_all();
}

DUCTILE_INLINE void execution::build_output() {
  if (!root_) return;
  output_.status = root_->result.status;
  output_.stdout_bytes = captured_[1].take();
  output_.stderr_bytes = captured_[2].take();
  output_.processes.clear();
  output_.processes.reserve(processes_.size());
  const auto by_position = [](const process_entry& a, const process_entry& b) {
    return a.owner->position < b.owner->position;
  };
  // Processes start left to right, so this is nearly always in order already.
  if (std::is_sorted(processes_.begin(), processes_.end(), by_position)) {
    for (const auto& p : processes_) output_.processes.push_back(p.record);
    return;
  }
  std::vector<const process_entry*> ordered;
  for (const auto& p : processes_) ordered.push_back(&p);
  std::stable_sort(ordered.begin(), ordered.end(),
                   [&](const process_entry* a, const process_entry* b) { return by_position(*a, *b); });
  for (const auto* p : ordered) output_.processes.push_back(p->record);
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
    changed.wait(lock, [this] { return finished_; });
    return true;
  }
  return changed.wait_until(lock, *deadline, [this] { return finished_; });
}

DUCTILE_INLINE const output& execution::result() {
  std::lock_guard<std::mutex> lock(mutex);
  if (failure_) std::rethrow_exception(failure_);
  if (cancelled_) {
    const std::string command = to_string(tree_);
    throw status_error(fmt::format("command {} was cancelled before it started", command), command, output_);
  }
  if (!root_) return output_;
  if (root_->result.failed && root_->result.timed_out) {
    const std::string command = to_string(tree_);
    throw timeout_error(fmt::format("command {} timed out: {}", command, to_string(output_.status)), command, output_);
  }
  if (root_->result.failed) {
    const std::string command = to_string(tree_);
    throw status_error(fmt::format("command {} failed: {}", command, to_string(output_.status)), command, output_);
  }
  return output_;
}

DUCTILE_INLINE void execution::abandon_supervision(const std::error_code& error) {
  if (finished_) return;
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
  if (finished_) return;
  abandon(std::move(failure));
  reap_all_blocking();  // everything was just sent SIGKILL
  try {
    for (auto& c : captures_) {
      if (c.read) read_capture(c);  // keep what is already there
    }
  } catch (...) {
    // Out of memory again: what was captured so far is all there is.
  }
  for (auto& c : captures_) {
    c.read.reset();
    c.forward.reset();
  }
  for (auto& f : feeders_) f.write.reset();
  try {
    build_output();
  } catch (...) {
  }
  mark_finished();
}

DUCTILE_INLINE output execution::take_result() {
  result();
  std::lock_guard<std::mutex> lock(mutex);
  return std::move(output_);
}

DUCTILE_INLINE void execution::drive_to_completion() {
  std::vector<pollfd> fds;
  std::unique_lock<std::mutex> lock(mutex);
  while (!finished_) {
    fds.clear();
    collect(fds);
    const int wait_ms = milliseconds_until(next_deadline());
    lock.unlock();
    int ready = 0;
    const auto error = sys::poll_fds(fds.data(), fds.size(), wait_ms, ready);
    lock.lock();
    if (error) {
      abandon_supervision(error);
      return;
    }
    try {
      dispatch(fds.data(), fds.size());
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
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (pending_events_.empty()) return;
    events.swap(pending_events_);
    delivering_events_ = true;
  }
  std::exception_ptr failure;
  try {
    if (auto o = current_observer()) {
      for (const auto& event : events) {
        if (const auto* spawned = std::get_if<spawn_event>(&event))
          o->spawned(*spawned);
        else
          o->exited(std::get<exit_event>(event));
      }
    }
  } catch (...) {
    failure = std::current_exception();
  }
  std::lock_guard<std::mutex> lock(mutex);
  delivering_events_ = false;
  if (failure) {
    // A failing observer ends the run it was told about.
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
    if (const auto error = sys::make_event(finished_ ? 1 : 0, completion_)) {
      const std::string command = to_string(tree_);
      throw ductile::error(
          fmt::format("command {}: cannot make its completion descriptor: {}", command, error.message()), command);
    }
  }
  return completion_.get();
}

DUCTILE_INLINE void execution::set_on_finished(std::function<void()> callback) {
  std::lock_guard<std::mutex> lock(mutex);
  on_finished_ = std::move(callback);
}

DUCTILE_INLINE void execution::notify_if_finished() {
  std::function<void()> callback;
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (!finished_ || notified_ || !on_finished_) return;
    notified_ = true;
    callback = std::move(on_finished_);
  }
  callback();
}

DUCTILE_INLINE void execution::start_queued() {
  try {
    start(context{});  // does nothing if cancelled meanwhile
  } catch (...) {
    std::lock_guard<std::mutex> lock(mutex);
    if (!failure_) failure_ = std::current_exception();
    if (!finished_) mark_finished();
  }
  notify_if_finished();
}

DUCTILE_INLINE void execution::fail_unstarted(std::exception_ptr failure) {
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (finished_ || started_) return;
    failure_ = std::move(failure);
    mark_finished();
  }
  notify_if_finished();
}

DUCTILE_INLINE void execution::kill_without_waiting() {
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (finished_) return;
    if (started_) {
      killed_ = true;
      signal_all(SIGKILL);
      return;
    }
    cancel_unstarted();
  }
  notify_if_finished();
}

DUCTILE_INLINE void execution::cancel_unstarted() {
  cancelled_ = true;
  output_.status = exit_status::killed(SIGKILL);
  mark_finished();
}

DUCTILE_INLINE bool execution::failed() {
  try {
    result();
    return false;
  } catch (const std::exception&) {
    return true;
  }
}

DUCTILE_INLINE void execution::kill() {
  if (foreign()) return;
  std::unique_lock<std::mutex> lock(mutex);
  if (finished_) return;
  if (!started_) {
    cancel_unstarted();
    lock.unlock();
    notify_if_finished();
    return;
  }
  killed_ = true;
  signal_all(SIGKILL);
  changed.wait(lock, [this] { return finished_; });
}

DUCTILE_INLINE void execution::send_signal(int signal) {
  if (foreign()) return;
  std::lock_guard<std::mutex> lock(mutex);
  signal_all(signal);
}

DUCTILE_INLINE std::vector<pid_t> execution::pids() {
  if (foreign()) return {};
  std::lock_guard<std::mutex> lock(mutex);
  std::vector<const process_entry*> ordered;
  for (const auto& p : processes_) ordered.push_back(&p);
  std::stable_sort(ordered.begin(), ordered.end(), [](const process_entry* a, const process_entry* b) {
    return a->owner->position < b->owner->position;
  });
  std::vector<pid_t> result;
  for (const auto* p : ordered) result.push_back(p->record.pid);
  return result;
}

}  // namespace ductile::detail
