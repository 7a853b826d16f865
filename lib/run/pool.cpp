// A pool queues runs and starts them as slots free. It has no thread of its
// own: runs finish on the shared background thread, and the next ones start
// on the shared launcher threads (run/launchers.hpp), several at once, or,
// one at a time, on the background thread itself. Only a jobserver's client
// has one more thread, which waits for tokens while jobs are queued for them.

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <ductile/pool.hpp>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "cluster/job_facts.hpp"
#include "cluster/srun_session.hpp"
#include "jobserver/tokens.hpp"
#include "os/event_loop.hpp"
#include "remote/plan.hpp"
#include "remote/session.hpp"
#include "run/driver.hpp"
#include "run/launchers.hpp"
#include "run/queued_run.hpp"

namespace ductile {
namespace detail {

struct pool_state : std::enable_shared_from_this<pool_state> {
  mutable std::mutex mutex;
  std::condition_variable changed;
  std::size_t max_parallel = 1;
  failure_policy policy = failure_policy::keep_going;
  std::chrono::nanoseconds grace{0};
  std::vector<queued_run> runs;  // every run submitted, by index
  std::vector<bool> launched;
  std::deque<std::size_t> queue;
  std::deque<std::size_t> completed;  // not yet returned by wait_any
  std::size_t running = 0;
  std::size_t finished = 0;
  std::size_t failed = 0;
  bool stopping = false;
  bool launch_posted = false;  // the background thread has been asked to launch
  std::size_t helpers = 0;     // launcher threads starting this pool's jobs, or asked to

  // A pool over hosts: each queued job's form for each host, made at submit
  // and let go at launch, and the host each launched job runs on.
  std::vector<std::pair<remote::host, std::size_t>> hosts;
  std::vector<std::size_t> host_running;
  std::vector<std::vector<expression>> placed;
  std::vector<std::size_t> host_of;

  // A pool of Slurm jobs: each job runs as job.on(cluster), and a watcher
  // counts, while progress is reported, how many launched jobs Slurm still
  // holds pending (they count as queued).
  std::optional<slurm_target> cluster;
  std::size_t pending_in_cluster = 0;
  std::thread cluster_watcher;
  std::condition_variable cluster_wake;

  // The jobserver: a job beyond the first runs on a token from it.
  std::unique_ptr<jobserver_tokens> tokens;
  std::vector<char> held;   // one per running job beyond the first
  bool serving = false;     // children get the jobserver in MAKEFLAGS
  jobserver_auth upstream;  // the jobserver this pool is a client of, if any
  std::thread token_taker;
  std::condition_variable token_wanted;
  bool quitting = false;

  progress_function on_progress;
  bool progress_changed = false;
  bool reporting = false;
  std::size_t any_waiters = 0;  // callers in wait_any(), woken by every finished job
  std::exception_ptr progress_failure;

  void launch_ready(bool helping = false);
  void launch_soon();
  bool spreads() const noexcept { return max_parallel > 1 && launchers::limit() > 0; }
  bool wants_helper() const noexcept { return may_start() && helpers < launchers::limit(); }
  bool recruit_helper();
  bool hand_launches_over();
  bool launch_after_this_turn();
  bool post_launch_to_background();
  std::size_t take_host_slot(std::size_t index);
  void on_finished(std::size_t index);
  void stop(std::unique_lock<std::mutex>& lock);
  bool may_start() const noexcept;
  bool wants_token() const noexcept;
  void give_back_spare_tokens() noexcept;
  void take_tokens();
  void report_progress();
  void watch_cluster();
  // Called with `mutex` held: every change so far has reached on_progress.
  bool reported() const noexcept { return !reporting && (!progress_changed || !on_progress); }
  expression shared_with_children(const expression& job) const;
};

DUCTILE_INLINE bool pool_state::may_start() const noexcept {
  if (stopping || queue.empty() || running >= max_parallel) return false;
  return !tokens || running < 1 + held.size();
}

DUCTILE_INLINE bool pool_state::wants_token() const noexcept {
  return tokens && !stopping && !queue.empty() && running < max_parallel && running >= 1 + held.size();
}

// Called with `mutex` held: tokens nobody runs on go back at once, so that
// the rest of the build can use them.
DUCTILE_INLINE void pool_state::give_back_spare_tokens() noexcept {
  const std::size_t needed = running > 0 ? running - 1 : 0;
  while (held.size() > needed) {
    tokens->give_back(held.back());
    held.pop_back();
  }
}

// Whether this thread is inside launch_ready(): a run that fails to start
// finishes at once and its callback comes back to the pool, whose slot the
// loop below takes instead.
DUCTILE_INLINE bool& launching_here() noexcept {
  thread_local bool launching = false;
  return launching;
}

// Starts queued runs while there are free slots; a launcher thread `helping`
// stops counting itself once none is left. While more than one job may
// start, another launcher thread is asked to start the others meanwhile: each
// start waits while its child execs, and the cores can overlap those waits.
// The nested call from a failed start returns at once, so that a long row of
// failures does not recurse.
DUCTILE_INLINE void pool_state::launch_ready(bool helping) {
  if (launching_here()) return;
  launching_here() = true;
  struct reset_flag {
    ~reset_flag() { launching_here() = false; }
  } reset;
  for (;;) {
    std::shared_ptr<execution> next;
    std::optional<expression> placed_job;
    bool recruit = false;
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (!may_start()) {
        if (helping) --helpers;
        if (tokens) {
          give_back_spare_tokens();
          if (wants_token()) token_wanted.notify_one();
        }
        return;
      }
      const std::size_t index = queue.front();
      queue.pop_front();
      launched[index] = true;
      ++running;
      progress_changed = true;
      next = runs[index].run();
      if (!hosts.empty()) {
        placed_job = std::move(placed[index][take_host_slot(index)]);
        std::vector<expression>().swap(placed[index]);
      }
      recruit = spreads() && wants_helper();
      if (recruit) ++helpers;
    }
    if (recruit) (void)recruit_helper();  // else this loop starts the next one too
    if (placed_job) next->retarget(std::move(*placed_job));
    queued_run(std::move(next)).launch();
    report_progress();
  }
}

// Asks a launcher thread to run launch_ready(), for a helper `helpers`
// already counts; false (and uncounted) if no launcher thread can be had.
DUCTILE_INLINE bool pool_state::recruit_helper() {
  std::weak_ptr<pool_state> weak = weak_from_this();
  const bool posted = launchers::post([weak] {
    const auto state = weak.lock();
    if (!state) return;
    try {
      state->launch_ready(true);
    } catch (...) {
      // Failures before the loop's end (no memory to retarget a job): the
      // helper is gone, and whoever launches next takes the slot.
      std::lock_guard<std::mutex> lock(state->mutex);
      --state->helpers;
    }
  });
  if (posted) return true;
  std::lock_guard<std::mutex> lock(mutex);
  --helpers;
  return false;
}

// Leaves what may start now to launcher threads: called where spawning would
// hold up more than this pool (the background thread reaps every run of the
// process; a submitting caller should only queue). True when that is done or
// not needed: launchers already at work take the free slots as they loop.
DUCTILE_INLINE bool pool_state::hand_launches_over() {
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (!wants_helper()) return true;
    ++helpers;
  }
  return recruit_helper();
}

// Submitted jobs are launched by launcher threads where several may run at
// once, else by the background thread, which adopts what it starts without a
// wake-up per run and then launches each next job from the last one's exit;
// the caller only queues. Called with no lock held, after
// `launch_posted` was set. On that thread itself (a callback submitting), or
// with no thread or no memory to ask it, the launch happens here: a launch
// that cannot start its run fails the run with the reason.
DUCTILE_INLINE void pool_state::launch_soon() {
  if (spreads() && hand_launches_over()) return;
  if (!background_driver::on_driver_thread() && post_launch_to_background()) return;
  {
    std::lock_guard<std::mutex> lock(mutex);
    launch_posted = false;
  }
  launch_ready();
}

// On the background thread: launch_ready() once this turn's finished runs
// have all been counted (false, and nothing asked, elsewhere).
DUCTILE_INLINE bool pool_state::launch_after_this_turn() {
  if (!background_driver::on_driver_thread()) return false;
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (launch_posted || !may_start()) return true;
    launch_posted = true;
  }
  if (post_launch_to_background()) return true;
  std::lock_guard<std::mutex> lock(mutex);
  launch_posted = false;
  return false;
}

// Asks the background thread for launch_ready(), `launch_posted` cleared
// first; false if the task could not be made or posted.
DUCTILE_INLINE bool pool_state::post_launch_to_background() {
  std::weak_ptr<pool_state> weak = weak_from_this();
  try {
    return background_driver::post([weak] {
      if (auto state = weak.lock()) {
        {
          std::lock_guard<std::mutex> lock(state->mutex);
          state->launch_posted = false;
        }
        state->launch_ready();
      }
    });
  } catch (...) {
    return false;
  }
}

// Called with `mutex` held: the host with the most free slots for its size.
// running < max_parallel (the sum of the slots) guarantees there is one.
DUCTILE_INLINE std::size_t pool_state::take_host_slot(std::size_t index) {
  std::size_t best = 0;
  double best_load = 2;
  for (std::size_t h = 0; h < hosts.size(); ++h) {
    if (host_running[h] >= hosts[h].second) continue;
    const double load = static_cast<double>(host_running[h]) / static_cast<double>(hosts[h].second);
    if (load < best_load) {
      best = h;
      best_load = load;
    }
  }
  ++host_running[best];
  host_of[index] = best;
  return best;
}

// The token taker's loop. It polls with a short timeout as well as for the
// descriptor, because another reader may win the token it saw, and demand may
// vanish while it waits.
DUCTILE_INLINE void pool_state::take_tokens() {
  std::unique_lock<std::mutex> lock(mutex);
  for (;;) {
    token_wanted.wait(lock, [this] { return quitting || wants_token(); });
    if (quitting) return;
    lock.unlock();
    os::wait_list readable;
    readable.add_readable(tokens->readable());
    (void)os::wait_for(readable, std::chrono::milliseconds(100));
    const auto token = tokens->try_take();
    lock.lock();
    if (!token) continue;
    if (!wants_token()) {
      tokens->give_back(*token);
      continue;
    }
    held.push_back(*token);
    lock.unlock();
    launch_ready();
    lock.lock();
  }
}

// Calls the callback with the latest counts, one call at a time and with no
// lock held: whoever is reporting when another change comes reports it too.
DUCTILE_INLINE void pool_state::report_progress() {
  progress_function callback;
  progress now;
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (!on_progress || reporting || !progress_changed) return;
    reporting = true;
  }
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (!progress_changed || !on_progress) {
        reporting = false;
        changed.notify_all();  // wait_all() waits for the last report
        return;
      }
      progress_changed = false;
      const std::size_t pending = std::min(pending_in_cluster, running);
      now = progress{queue.size() + pending, running - pending, finished, failed, runs.size()};
      callback = on_progress;
    }
    std::exception_ptr failure;
    try {
      callback(now);
    } catch (...) {
      failure = std::current_exception();
    }
    if (!failure) continue;
    // Handed over outside the handler, and moved: this thread keeps no
    // reference, so the waiter that rethrows it owns the exception alone.
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (!progress_failure) progress_failure = std::move(failure);
      on_progress = {};
      reporting = false;
    }
    changed.notify_all();
    return;
  }
}

// The cluster watcher's loop: squeue about every quarter second while jobs
// are launched and someone listens to progress, and never otherwise. It
// reports only while a job runs: once none does, wait_all() may have
// returned, and the callback's world may be gone.
DUCTILE_INLINE void pool_state::watch_cluster() {
  const std::string prefix = "ductile-" + cluster->pool_tag + "-";
  std::unique_lock<std::mutex> lock(mutex);
  for (;;) {
    cluster_wake.wait_for(lock, std::chrono::milliseconds(250));
    if (quitting) return;
    if (running == 0 || !on_progress) {
      pending_in_cluster = 0;  // nothing launched is pending; progress clamps it anyway
      continue;
    }
    lock.unlock();
    const auto listing = slurm_listing();
    lock.lock();
    if (!listing || running == 0) continue;
    const std::size_t pending = count_pending_jobs(*listing, prefix);
    if (pending == pending_in_cluster) continue;
    pending_in_cluster = pending;
    progress_changed = true;
    lock.unlock();
    report_progress();
    lock.lock();
  }
}

// Called with `lock` held, returns with it held. `stop` ends what runs and
// cancels what waits; `finish_running` and a destroyed pool's stop differ in
// what happens to the running jobs.
DUCTILE_INLINE void pool_state::stop(std::unique_lock<std::mutex>& lock) {
  stopping = true;
  std::vector<queued_run> waiting, started;
  for (std::size_t index : queue) waiting.push_back(runs[index]);
  for (std::size_t i = 0; i < runs.size(); ++i)
    if (launched[i]) started.push_back(runs[i]);
  const failure_policy how = policy;
  const auto patience = grace;
  lock.unlock();
  for (auto& run : waiting) run.run()->request_stop(patience);
  if (how == failure_policy::stop)
    for (auto& run : started) run.run()->request_stop(patience);
  lock.lock();
}

DUCTILE_INLINE void pool_state::on_finished(std::size_t index) {
  std::shared_ptr<execution> run;
  {
    // submit() may be growing `runs` on another thread.
    std::lock_guard<std::mutex> lock(mutex);
    run = runs[index].run();
  }
  const bool job_failed = run->failed();
  bool wake;
  {
    std::unique_lock<std::mutex> lock(mutex);
    if (launched[index]) {
      --running;
      if (!hosts.empty()) --host_running[host_of[index]];
    } else {
      queue.erase(std::remove(queue.begin(), queue.end(), index), queue.end());
    }
    ++finished;
    if (job_failed) ++failed;
    progress_changed = true;
    completed.push_back(index);
    if (job_failed && policy != failure_policy::keep_going && !stopping) stop(lock);
    // wait_all() and the destructor wait for the last job: waking them for
    // every other one costs each job a context switch.
    wake = any_waiters > 0 || finished == runs.size();
  }
  // The next job first: its spawn should not wait while waiters wake. On the
  // background thread with room for several, the launches wait until the
  // runs due this turn have been stepped, so that one launch_ready() sees
  // every slot they freed: it starts one job and launcher threads the others.
  if (!launching_here() && !(spreads() && launch_after_this_turn())) launch_ready();
  if (wake) changed.notify_all();
  report_progress();
}

// The jobserver goes to the job's processes as MAKEFLAGS and the descriptors
// it names, outermost, so that a job's own env("MAKEFLAGS", ...) wins.
DUCTILE_INLINE expression pool_state::shared_with_children(const expression& job) const {
  if (!serving) return job;
  if (upstream.kind == jobserver_auth::style::descriptors)
    return job.env("MAKEFLAGS", " -j " + upstream.text)
        .pass_fd(upstream.read_fd, upstream.read_fd)
        .pass_fd(upstream.write_fd, upstream.write_fd);
  if (upstream.kind == jobserver_auth::style::fifo) return job.env("MAKEFLAGS", " -j " + upstream.text);
  const int read_fd = tokens->children_read_fd();
  const int write_fd = tokens->children_write_fd();
  return job.env("MAKEFLAGS", tokens->children_makeflags()).pass_fd(read_fd, read_fd).pass_fd(write_fd, write_fd);
}

}  // namespace detail

DUCTILE_INLINE pool::pool(std::size_t max_parallel, failure_policy policy, std::chrono::nanoseconds grace)
    : state_(std::make_shared<detail::pool_state>()) {
  if (max_parallel == 0) throw std::invalid_argument("pool: max_parallel must be at least 1");
  state_->max_parallel = max_parallel;
  state_->policy = policy;
  state_->grace = std::max(grace, std::chrono::nanoseconds(0));
}

DUCTILE_INLINE pool::pool(std::vector<std::pair<remote::host, std::size_t>> slots, failure_policy policy)
    : state_(std::make_shared<detail::pool_state>()) {
  if (slots.empty()) throw std::invalid_argument("pool: no host slots");
  std::size_t total = 0;
  for (const auto& [where, count] : slots) {
    if (count == 0) throw std::invalid_argument("pool: host " + where.label() + " has 0 slots");
    total += count;
  }
  state_->max_parallel = total;
  state_->policy = policy;
  state_->grace = std::chrono::seconds(5);
  state_->host_running.assign(slots.size(), 0);
  state_->hosts = std::move(slots);
}

DUCTILE_INLINE pool::pool(cluster::slurm cluster, std::size_t max_in_flight, failure_policy policy)
    : state_(std::make_shared<detail::pool_state>()) {
  if (max_in_flight == 0) throw std::invalid_argument("pool: max_in_flight must be at least 1");
  state_->max_parallel = max_in_flight;
  state_->policy = policy;
  state_->grace = std::chrono::seconds(5);
  // The tag tells this pool's jobs in Slurm's queue from every other's.
  state_->cluster = detail::slurm_target{std::move(cluster), detail::new_remote_token().substr(0, 12)};
  detail::pool_state& s = *state_;
  s.cluster_watcher = std::thread([&s] { s.watch_cluster(); });
}

DUCTILE_INLINE pool::pool(std::shared_ptr<detail::pool_state> state) noexcept : state_(std::move(state)) {}

DUCTILE_INLINE pool pool::from_jobserver(std::size_t fallback_parallel, failure_policy policy,
                                         std::chrono::nanoseconds grace) {
  pool made(fallback_parallel, policy, grace);
  const char* makeflags = std::getenv("MAKEFLAGS");
  if (makeflags == nullptr) return made;
  const detail::jobserver_auth auth = detail::parse_jobserver_auth(makeflags);
  if (auth.kind == detail::jobserver_auth::style::none && auth.text.empty()) return made;
  std::string problem;
  auto tokens = detail::jobserver_tokens::join(auth, problem);
  if (!tokens) {
    std::fprintf(stderr,
                 "ductile: the jobserver in MAKEFLAGS (%s) cannot be used: %s; running at most %zu jobs at once\n",
                 auth.text.c_str(), problem.c_str(), fallback_parallel);
    return made;
  }
  detail::pool_state& s = *made.state_;
  s.max_parallel = std::numeric_limits<std::size_t>::max();
  s.tokens = std::move(tokens);
  s.upstream = auth;
  s.token_taker = std::thread([&s] { s.take_tokens(); });
  return made;
}

DUCTILE_INLINE pool& pool::serve_jobserver() {
  std::unique_lock<std::mutex> lock(state_->mutex);
  if (state_->serving) return *this;
  if (!state_->tokens) {
    state_->tokens = detail::jobserver_tokens::serve(state_->max_parallel - 1);
    detail::pool_state& s = *state_;
    s.token_taker = std::thread([&s] { s.take_tokens(); });
  }
  state_->serving = true;
  return *this;
}

DUCTILE_INLINE void pool::set_progress(detail::progress_function fn) {
  std::lock_guard<std::mutex> lock(state_->mutex);
  state_->on_progress = std::move(fn);
}

DUCTILE_INLINE pool::pool(pool&&) noexcept = default;

DUCTILE_INLINE pool& pool::operator=(pool&& other) noexcept {
  if (this != &other) {
    pool dropped(std::move(*this));
    state_ = std::move(other.state_);
  }
  return *this;
}

DUCTILE_INLINE pool::~pool() {
  if (!state_) return;  // moved from
  {
    // Destroyed: what waits is cancelled and what runs is killed, at once.
    std::unique_lock<std::mutex> lock(state_->mutex);
    state_->policy = failure_policy::stop;
    state_->grace = std::chrono::nanoseconds(0);
    state_->stop(lock);
  }
  {
    std::unique_lock<std::mutex> lock(state_->mutex);
    state_->changed.wait(lock, [this] { return state_->finished == state_->runs.size() && state_->reported(); });
    state_->quitting = true;
  }
  state_->token_wanted.notify_all();
  state_->cluster_wake.notify_all();
  if (state_->token_taker.joinable()) state_->token_taker.join();
  if (state_->cluster_watcher.joinable()) state_->cluster_watcher.join();
  std::lock_guard<std::mutex> lock(state_->mutex);
  if (state_->tokens) state_->give_back_spare_tokens();
}

DUCTILE_INLINE handle pool::submit(const expression& job) {
  std::unique_lock<std::mutex> sharing(state_->mutex);
  expression shared = state_->shared_with_children(job);
  const auto hosts = state_->hosts;
  const auto cluster = state_->cluster;
  sharing.unlock();
  if (cluster) shared = detail::place_on(shared, *cluster);
  // Each host's form now, so that a job that cannot cross fails here.
  std::vector<expression> placed;
  for (const auto& slot : hosts) placed.push_back(shared.on(slot.first));
  auto run = std::make_shared<detail::execution>(shared);
  bool cancel = false;
  bool launch = false;
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    const std::size_t index = state_->runs.size();
    std::weak_ptr<detail::pool_state> weak = state_;
    run->set_on_finished([weak, index] {
      if (auto state = weak.lock()) state->on_finished(index);
    });
    state_->runs.emplace_back(run);
    state_->launched.push_back(false);
    if (!hosts.empty()) {
      state_->placed.push_back(std::move(placed));
      state_->host_of.push_back(0);
    }
    state_->queue.push_back(index);
    state_->progress_changed = true;
    cancel = state_->stopping;
    if (!cancel && state_->spreads()) {
      launch = state_->wants_helper();
    } else if (!cancel && !state_->launch_posted && state_->may_start()) {
      launch = state_->launch_posted = true;
    }
    // A job beyond the running ones waits for a token: the taker may be
    // asleep, told by the last launch that nothing more was queued.
    if (!launch && state_->wants_token()) state_->token_wanted.notify_one();
  }
  // The pool owns the job: a dropped handle leaves it to the pool.
  handle submitted(run);
  submitted.detach();
  if (cancel) {
    run->request_stop(std::chrono::nanoseconds(0));
    return submitted;
  }
  state_->report_progress();
  if (launch) state_->launch_soon();
  return submitted;
}

DUCTILE_INLINE void pool::wait_all() {
  std::unique_lock<std::mutex> lock(state_->mutex);
  // The last report too: its callback may use what the caller frees next.
  state_->changed.wait(lock, [this] { return state_->finished == state_->runs.size() && state_->reported(); });
  if (state_->progress_failure) std::rethrow_exception(std::exchange(state_->progress_failure, nullptr));
}

DUCTILE_INLINE std::optional<std::size_t> pool::wait_any() {
  std::unique_lock<std::mutex> lock(state_->mutex);
  ++state_->any_waiters;
  // A finish is handed out once it was reported: a caller that destroys
  // the pool after its last wait_any() has seen every report.
  state_->changed.wait(lock, [this] {
    return (!state_->completed.empty() || state_->finished == state_->runs.size()) && state_->reported();
  });
  --state_->any_waiters;
  if (state_->progress_failure) std::rethrow_exception(std::exchange(state_->progress_failure, nullptr));
  if (state_->completed.empty()) return std::nullopt;
  const std::size_t index = state_->completed.front();
  state_->completed.pop_front();
  return index;
}

DUCTILE_INLINE bool pool::stopped() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->stopping;
}

}  // namespace ductile
