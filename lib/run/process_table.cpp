#include "run/process_table.hpp"

#include <algorithm>

#include "os/system_calls.hpp"
#include "remote/far_side.hpp"

namespace ductile::detail {

// A child held by pid is looked at after 250 us, then at doubling intervals
// up to 50 ms: a short command is noticed within about its own run time, a
// long one within 50 ms, and 100 sleeping children cost 2,000 waitid calls a
// second (benchmarks/by_pid measures both).
inline constexpr std::chrono::microseconds first_retry{250}, longest_retry{50000};

// The next look at a child, about `delay` from now: the multiple of `delay`
// on the steady clock nearest to now + delay, and at least delay / 2 away.
// Children with the same delay are looked at in the same wake-up, so 100
// sleeping children wake the loop 20 times a second, not 2,000.
DUCTILE_INLINE steady_time next_look(std::chrono::microseconds delay) noexcept {
  const auto step = std::chrono::duration_cast<steady_time::duration>(delay);
  const auto earliest = std::chrono::steady_clock::now().time_since_epoch() + step / 2;
  return steady_time((earliest + step - steady_time::duration(1)) / step * step);
}

DUCTILE_INLINE tracked_process& process_table::add(spawned_process&& spawned, job& owner) noexcept {
  tracked_process& entry = processes_.emplace_back();
  entry.record.pid = spawned.process.pid;
  entry.process = std::move(spawned.process);
  entry.owner = &owner;
  entry.record.program = std::move(spawned.program);
  if (!entry.process.pidfd) {
    // Nothing to poll: look at it on a timer, soon at first.
    entry.retry_at = next_look(first_retry);
    entry.retry_delay = first_retry;
    ++retries_;
  }
  entry.group = spawned.process_group;
  owner.process_index = static_cast<int>(processes_.size() - 1);
  return entry;
}

DUCTILE_INLINE bool in_scope(const tracked_process& p, const job* scope) noexcept {
  return scope == nullptr || p.owner->position.compare(0, scope->position.size(), scope->position) == 0;
}

// Signals go through pidfds, which cannot hit a recycled pid. A process group
// is signalled only while one of our members is unreaped (its pidfd is still
// open): that member keeps the group id from being reused.
DUCTILE_INLINE void process_table::signal(const job* scope, int signal) noexcept {
  for (auto& p : processes_) {
    if (p.reaped() || !in_scope(p, scope)) continue;
    sys::signal_process(p.process, signal);
    p.signalled = true;
    if (p.remote) p.remote->signal(signal);
    if (p.group <= 0) continue;
    bool group_signalled = false;
    for (const auto& earlier : processes_) {
      if (&earlier == &p) break;
      if (!earlier.reaped() && earlier.group == p.group && in_scope(earlier, scope)) group_signalled = true;
    }
    if (!group_signalled) sys::signal_group(p.group, signal);
  }
}

DUCTILE_INLINE void process_table::collect(os::wait_list& list) {
  for (auto& p : processes_) {
    p.watch.due = false;
    if (p.reaped() || p.retry_at) continue;
    list.add(p.process, p.watch);
  }
}

DUCTILE_INLINE std::optional<steady_time> process_table::next_retry() const {
  std::optional<steady_time> next;
  if (retries_ == 0) return next;
  for (const auto& p : processes_)
    if (p.retry_at && (!next || *p.retry_at < *next)) next = p.retry_at;
  return next;
}

DUCTILE_INLINE void record_exit(const sys::process_exit& ended, process_record& record) noexcept {
  record.status = ended.status;
  record.user_time = ended.user_time;
  record.system_time = ended.system_time;
  record.max_rss_kib = ended.max_rss_kib;
}

DUCTILE_INLINE bool process_table::reap(tracked_process& process) {
  sys::process_exit ended;
  if (sys::collect_exit(process.process, ended) == sys::exit_state::running) {
    // Still running (held by pid), or readable but not yet waitable (a tracer
    // has not let go of the dead child, and poll would report the pidfd again
    // at once): look again later.
    process.retry_delay = std::min(longest_retry, std::max(first_retry, process.retry_delay * 2));
    if (!process.retry_at) ++retries_;
    process.retry_at = next_look(process.retry_delay);
    return false;
  }
  if (process.retry_at) {
    process.retry_at.reset();
    --retries_;
  }
  process.was_reaped = true;
  process.process.pidfd.reset();
  record_exit(ended, process.record);
  return true;
}

DUCTILE_INLINE bool process_table::retry_now() noexcept {
  if (retries_ == 0) return false;
  const auto now = std::chrono::steady_clock::now();
  for (auto& p : processes_)
    if (p.retry_at) p.retry_at = now;
  return true;
}

DUCTILE_INLINE void process_table::reap_all_blocking() noexcept {
  for (auto& p : processes_) {
    if (p.reaped()) continue;
    sys::process_exit ended;
    (void)sys::await_exit(p.process, ended);
    p.was_reaped = true;
    p.process.pidfd.reset();
    if (p.retry_at) {
      p.retry_at.reset();
      --retries_;
    }
    record_exit(ended, p.record);
  }
}

DUCTILE_INLINE bool by_position(const tracked_process& a, const tracked_process& b) noexcept {
  return a.owner->position < b.owner->position;
}

DUCTILE_INLINE std::vector<const tracked_process*> process_table::in_tree_order() const {
  std::vector<const tracked_process*> ordered;
  ordered.reserve(processes_.size());
  for (const auto& p : processes_) ordered.push_back(&p);
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const tracked_process* a, const tracked_process* b) { return by_position(*a, *b); });
  return ordered;
}

DUCTILE_INLINE std::vector<process_id> process_table::pids() const {
  std::vector<process_id> result;
  result.reserve(processes_.size());
  for (const auto* p : in_tree_order()) result.push_back(p->record.pid);
  return result;
}

DUCTILE_INLINE std::vector<process_id> process_table::live_pids() const {
  std::vector<process_id> result;
  for (const auto* p : in_tree_order())
    if (!p->reaped()) result.push_back(p->record.pid);
  return result;
}

DUCTILE_INLINE std::vector<process_record> process_table::records() const {
  std::vector<process_record> result;
  result.reserve(processes_.size());
  // Processes start left to right, so this is nearly always in order already.
  if (std::is_sorted(processes_.begin(), processes_.end(), by_position)) {
    for (const auto& p : processes_) result.push_back(p.record);
    return result;
  }
  for (const auto* p : in_tree_order()) result.push_back(p->record);
  return result;
}

}  // namespace ductile::detail
