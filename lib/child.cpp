// The child between clone and exec.
//
// Async-signal-safety: this code runs on a borrowed stack in memory shared
// with the suspended parent (CLONE_VM | CLONE_VFORK). It may only make raw
// system calls: no allocation, no locks, no stdio, no NSS, no libc function
// that touches shared state. Everything it needs was prepared by the parent.
// `syscall()` is used for every call; on failure it stores errno in the
// parent thread's TLS slot, which the parent saves and restores around clone.

#include "child.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace ductile::detail {

// The kernel's struct sigaction; large enough for every architecture's layout,
// and the handler comes first in all of them.
struct kernel_sigaction {
  void* handler;
  unsigned long flags;
  void* restorer;
  unsigned long mask[2];
};

inline constexpr long kernel_sigset_size = 8;
inline constexpr int highest_signal = 64;
// From <linux/close_range.h>, which older C libraries lack.
inline constexpr unsigned close_range_cloexec = 1U << 2;

[[noreturn]] DUCTILE_INLINE void child_fail(const child_plan& plan, child_step step, int error) noexcept {
  plan.report->step = step;
  plan.report->error = error;
  for (;;) syscall(SYS_exit_group, 127);
}

// Children start with default dispositions, even for signals the parent
// ignores or handles: a handler of the parent must never run here, on shared
// memory. All signals are blocked until just before exec.
DUCTILE_INLINE void reset_signal_dispositions() noexcept {
  for (int sig = 1; sig <= highest_signal; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    kernel_sigaction old{};
    if (syscall(SYS_rt_sigaction, sig, nullptr, &old, kernel_sigset_size) != 0) continue;
    if (old.handler == reinterpret_cast<void*>(SIG_DFL)) continue;
    kernel_sigaction standard{};
    standard.handler = reinterpret_cast<void*>(SIG_DFL);
    syscall(SYS_rt_sigaction, sig, &standard, nullptr, kernel_sigset_size);
  }
}

DUCTILE_INLINE void install_stdio(const child_plan& plan) noexcept {
  int source[3] = {plan.stdio[0], plan.stdio[1], plan.stdio[2]};
  // A source below 3 that moves elsewhere could be overwritten by another
  // target's dup (a swap of 1 and 2, say), so every such source is first
  // copied above 2. The copies are close-on-exec and vanish at exec.
  for (int target = 0; target < 3; ++target) {
    if (source[target] == target || source[target] >= 3) continue;
    const long copy = syscall(SYS_fcntl, source[target], F_DUPFD_CLOEXEC, 3);
    if (copy < 0) child_fail(plan, child_step::stdio, errno);
    source[target] = static_cast<int>(copy);
  }
  for (int target = 0; target < 3; ++target) {
    if (source[target] == target) continue;
    // dup3 leaves the new descriptor without close-on-exec.
    if (syscall(SYS_dup3, source[target], target, 0) < 0) child_fail(plan, child_step::stdio, errno);
  }
}

// Nothing but 0, 1 and 2 may reach the program, even descriptors the host
// program opened without O_CLOEXEC. This marks the child's own table only.
DUCTILE_INLINE void close_other_descriptors(const child_plan& plan) noexcept {
  if (syscall(SYS_close_range, 3U, ~0U, close_range_cloexec) == 0) return;
  if (errno != ENOSYS && errno != EINVAL) child_fail(plan, child_step::close_descriptors, errno);
  struct {
    unsigned long current, maximum;
  } limit{1024, 1024};
  syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, nullptr, &limit);
  for (unsigned long fd = 3; fd < limit.current; ++fd) syscall(SYS_fcntl, static_cast<int>(fd), F_SETFD, FD_CLOEXEC);
}

// execvp's rules: keep searching after "not there" errors, remember EACCES.
DUCTILE_INLINE bool keeps_searching(int error) noexcept {
  return error == ENOENT || error == ENOTDIR || error == ESTALE || error == ELOOP || error == ENAMETOOLONG ||
         error == ENODEV || error == ETIMEDOUT || error == EACCES;
}

// Joining the group of the subtree's first process fails once every member of
// that group has been reaped (a later stage of a `then`): lead a new one then.
DUCTILE_INLINE void enter_process_group(const child_plan& plan) noexcept {
  if (plan.process_group < 0) return;
  if (plan.process_group > 0 && syscall(SYS_setpgid, 0, plan.process_group) == 0) return;
  if (syscall(SYS_setpgid, 0, 0) != 0) child_fail(plan, child_step::process_group, errno);
  plan.report->made_group = true;
}

DUCTILE_INLINE int child_main(void* argument) noexcept {
  const child_plan& plan = *static_cast<const child_plan*>(argument);
  reset_signal_dispositions();
  enter_process_group(plan);
  install_stdio(plan);
  close_other_descriptors(plan);
  if (plan.dir != nullptr && syscall(SYS_chdir, plan.dir) != 0) child_fail(plan, child_step::chdir, errno);

  unsigned long empty_mask[2] = {0, 0};
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, empty_mask, nullptr, kernel_sigset_size);

  int error = ENOENT;
  bool saw_access_denied = false;
  for (std::size_t i = 0; i < plan.candidate_count; ++i) {
    syscall(SYS_execve, plan.candidates[i], plan.argv, plan.envp);
    error = errno;
    if (error == EACCES) saw_access_denied = true;
    if (!keeps_searching(error)) break;
  }
  if (saw_access_denied && keeps_searching(error)) error = EACCES;
  child_fail(plan, child_step::exec, error);
}

}  // namespace ductile::detail
