#include "run/job_tree.hpp"

#include <algorithm>

#include "os/stop.hpp"

namespace ductile::detail {

DUCTILE_INLINE void job_tree::enter_scope(job& scope) {
  scope.limit->deadline = std::chrono::steady_clock::now() + scope.limit->duration;
  limits_.push_back(&scope);
}

DUCTILE_INLINE job_result pipe_result(job_result left, const job_result& right) {
  // Deliberately unlike duct: a writer killed by SIGPIPE only learnt that its
  // reader stopped reading, which is the reader's right.
  if (os::ended_by_closed_pipe(left.status)) left = job_result{};
  if (right.failed) return right;
  if (left.failed) return left;
  if (!right.status.success()) return right;
  return left;
}

// ok_codes(): a listed exit code is success; 0 unlisted (in a non-empty
// list) is a failure; anything else stays as it came out of the subtree.
DUCTILE_INLINE job_result accept_result(job_result result, const std::vector<int>& codes) {
  if (codes.empty() || result.timed_out) return result;
  const auto code = result.status.code();
  if (!code) return result;
  if (std::find(codes.begin(), codes.end(), *code) != codes.end())
    result.failed = false;
  else if (*code == 0)
    result.failed = true;
  return result;
}

DUCTILE_INLINE void job_tree::complete(job& j, job_result result, bool stopping) {
  j.finished = true;
  j.result = result;
  job* parent = j.parent;
  if (parent == nullptr) return;
  switch (parent->type) {
    case job::kind::scope:
      if (parent->limit->fired) {
        result.timed_out = true;
        result.failed = true;
      }
      complete(*parent, result, stopping);
      break;
    case job::kind::unchecked:
      result.failed = false;
      complete(*parent, result, stopping);
      break;
    case job::kind::accept: complete(*parent, accept_result(result, parent->ok_codes), stopping); break;
    case job::kind::contained:
      cgroups_ended.push_back(parent);
      complete(*parent, result, stopping);
      break;
    case job::kind::pipe:
      if (parent->left->finished && parent->right->finished)
        complete(*parent, pipe_result(parent->left->result, parent->right->result), stopping);
      break;
    case job::kind::then:
      if (&j != parent->left.get()) {
        complete(*parent, result, stopping);
      } else if (result.failed || stopping || inside_fired_scope(*parent)) {
        parent->deferred.reset();
        parent->deferred_context.reset();
        complete(*parent, result, stopping);
      } else {
        right_sides_due.push_back(parent);
      }
      break;
    case job::kind::process: break;  // a leaf is nobody's parent
  }
}

DUCTILE_INLINE void job_tree::finish_unstarted(job& j, exit_status never_started) {
  if (j.finished) return;
  if (j.type == job::kind::process) {
    if (j.process_index < 0) complete(j, job_result{never_started, true, false, &j}, true);
    return;
  }
  if (j.left) finish_unstarted(*j.left, never_started);
  if (j.right && !j.finished) finish_unstarted(*j.right, never_started);
  if (j.type == job::kind::then && !j.finished && !j.right && j.left->finished) complete(j, j.left->result, true);
}

DUCTILE_INLINE bool job_tree::inside_fired_scope(const job& j) const noexcept {
  for (const job* current = &j; current != nullptr; current = current->parent)
    if (current->limit && current->limit->fired) return true;
  return false;
}

DUCTILE_INLINE std::optional<steady_time> job_tree::next_deadline() const {
  std::optional<steady_time> next;
  for (const job* scope : limits_) {
    if (scope->finished || scope->limit->killed) continue;
    const steady_time when = scope->limit->fired ? scope->limit->kill_at : scope->limit->deadline;
    if (!next || when < *next) next = when;
  }
  return next;
}

DUCTILE_INLINE void job_tree::run_timers(steady_time now) {
  for (job* scope : limits_) {
    auto& limit = *scope->limit;
    if (scope->finished || limit.killed) continue;
    if (!limit.fired && now >= limit.deadline) {
      limit.fired = true;
      limit.kill_at = now + limit.grace;
      signals_due.push_back({scope, os::ask_to_stop});
    } else if (limit.fired && now >= limit.kill_at) {
      limit.killed = true;
      signals_due.push_back({scope, os::force_to_stop});
    }
  }
}

}  // namespace ductile::detail
