// The child between fork and exec, in the POSIX backend.
//
// Async-signal-safety: the parent may have other threads, whose locks this
// copy of its memory holds forever. Only functions POSIX lists as
// async-signal-safe are called, plus setgroups and flock (system calls on
// every target, through extensions.hpp); nothing allocates. Everything needed
// was prepared by the parent.
// POSIX systems only: Windows has lib/os/windows/.
#ifndef _WIN32
#include "os/posix/child.hpp"

#include "common.hpp"
#include "os/child_plan.hpp"
#include "os/system_calls.hpp"

#if DUCTILE_POSIX_BACKEND

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "os/posix/extensions.hpp"

namespace ductile::detail::posix {

DUCTILE_INLINE void tell_parent(const child_plan& plan, const child_message& message) noexcept {
  const char* at = reinterpret_cast<const char*>(&message);
  std::size_t left = sizeof message;
  while (left > 0) {
    const ssize_t n = ::write(plan.report_fd, at, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    at += n;
    left -= static_cast<std::size_t>(n);
  }
}

[[noreturn]] DUCTILE_INLINE void child_fail(const child_plan& plan, child_step step, int error) noexcept {
  tell_parent(plan, child_message{child_message::kind::failed, step, error, 0});
  ::_exit(127);
}

// Default dispositions for every signal, even those the parent ignores or
// handles: a handler of the parent must never run here.
DUCTILE_INLINE void reset_signal_dispositions() noexcept {
  struct sigaction standard {};
  standard.sa_handler = SIG_DFL;
  sigemptyset(&standard.sa_mask);
  for (int sig = 1; sig <= highest_signal_tried; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    struct sigaction old {};
    if (::sigaction(sig, nullptr, &old) != 0) continue;
    if (old.sa_handler == SIG_DFL) continue;
    ::sigaction(sig, &standard, nullptr);
  }
}

// Where each passed descriptor is while the child sets up: a copy above every
// target when the original sits where another descriptor is going.
struct passed_sources {
  int fd[most_passed_fds];
};

DUCTILE_INLINE int duplicate_at_least(int fd, int lowest) noexcept {
  int copy;
  do {
    copy = ::fcntl(fd, F_DUPFD_CLOEXEC, lowest);
  } while (copy < 0 && errno == EINTR);
  return copy;
}

DUCTILE_INLINE int duplicate_onto(int fd, int target) noexcept {
  int rc;
  do {
    rc = ::dup2(fd, target);  // the copy is not close-on-exec
  } while (rc < 0 && errno == EINTR);
  return rc;
}

DUCTILE_INLINE void install_stdio(const child_plan& plan, passed_sources& passed) noexcept {
  int limit = 3;  // above every target
  for (std::size_t i = 0; i < plan.passed_count; ++i)
    if (plan.passed[i].target >= limit) limit = plan.passed[i].target + 1;
  // A source below the targets that moves elsewhere could be overwritten by
  // another target's dup (a swap of 1 and 2), so each is first copied above them.
  for (std::size_t i = 0; i < plan.passed_count; ++i) {
    passed.fd[i] = plan.passed[i].source;
    if (passed.fd[i] == plan.passed[i].target || passed.fd[i] >= limit) continue;
    passed.fd[i] = duplicate_at_least(passed.fd[i], limit);
    if (passed.fd[i] < 0) child_fail(plan, child_step::pass_fds, errno);
  }
  int source[3] = {plan.stdio[0], plan.stdio[1], plan.stdio[2]};
  for (int target = 0; target < 3; ++target) {
    if (source[target] == target || source[target] >= 3) continue;
    source[target] = duplicate_at_least(source[target], 3);
    if (source[target] < 0) child_fail(plan, child_step::stdio, errno);
  }
  for (int target = 0; target < 3; ++target) {
    if (source[target] == target) continue;
    if (duplicate_onto(source[target], target) < 0) child_fail(plan, child_step::stdio, errno);
  }
}

// After every other descriptor was marked close-on-exec: the passed ones
// arrive without the mark.
DUCTILE_INLINE void install_passed(const child_plan& plan, const passed_sources& passed) noexcept {
  for (std::size_t i = 0; i < plan.passed_count; ++i) {
    const int target = plan.passed[i].target;
    const int done = passed.fd[i] == target ? ::fcntl(target, F_SETFD, 0) : duplicate_onto(passed.fd[i], target);
    if (done < 0) child_fail(plan, child_step::pass_fds, errno);
  }
}

DUCTILE_INLINE void close_other_descriptors(open_descriptors inherited) noexcept {
  for (std::size_t i = 0; i < inherited.count; ++i)
    if (inherited.fds[i] > 2) ::fcntl(inherited.fds[i], F_SETFD, FD_CLOEXEC);
}

DUCTILE_INLINE void enter_process_group(const child_plan& plan) noexcept {
  if (plan.process_group < 0) return;
  if (plan.process_group > 0 && ::setpgid(0, plan.process_group) == 0) return;
  if (::setpgid(0, 0) != 0) child_fail(plan, child_step::process_group, errno);
  tell_parent(plan, child_message{child_message::kind::made_group, child_step::none, 0, 0});
}

// Groups before gid before uid: each needs the privilege the next gives up.
// As root, setgid and setuid set the real, effective and saved ids alike.
DUCTILE_INLINE void apply_credentials(const child_plan& plan) noexcept {
  const child_credentials& c = *plan.credentials;
  if (c.umask >= 0) ::umask(static_cast<mode_t>(c.umask));
  if (c.switch_ids) {
    if (set_groups(c.group_count, c.groups) != 0) child_fail(plan, child_step::setgroups, errno);
    if (::setgid(c.gid) != 0) child_fail(plan, child_step::setresgid, errno);
    if (::setuid(c.uid) != 0) child_fail(plan, child_step::setresuid, errno);
  }
}

DUCTILE_INLINE int lock_pid_file(const child_plan& plan) noexcept {
  const int fd = ::open(plan.daemon->pid_file, O_WRONLY | O_CREAT | O_NOFOLLOW, 0644);
  if (fd < 0) child_fail(plan, child_step::pid_file, errno);
  if (lock_whole_file(fd) != 0) child_fail(plan, child_step::pid_file, errno);
  return fd;
}

DUCTILE_INLINE void write_pid_file(const child_plan& plan, int fd) noexcept {
  char digits[24];
  int at = sizeof digits;
  digits[--at] = '\n';
  for (long pid = ::getpid(); pid > 0 || at == static_cast<int>(sizeof digits) - 1; pid /= 10)
    digits[--at] = static_cast<char>('0' + pid % 10);
  if (::ftruncate(fd, 0) != 0 || ::write(fd, digits + at, sizeof digits - static_cast<std::size_t>(at)) < 0)
    child_fail(plan, child_step::pid_file, errno);
}

DUCTILE_INLINE void become_daemon(const child_plan& plan) noexcept {
  if (::setsid() < 0) child_fail(plan, child_step::session, errno);
  const pid_t pid = ::fork();
  if (pid < 0) child_fail(plan, child_step::fork, errno);
  if (pid > 0) {
    tell_parent(plan, child_message{child_message::kind::daemon_started, child_step::none, 0, pid});
    ::_exit(0);
  }
}

// execvp's rules: keep searching after "not there" errors, remember EACCES.
DUCTILE_INLINE bool keeps_searching(int error) noexcept {
  return error == ENOENT || error == ENOTDIR || error == ELOOP || error == ENAMETOOLONG || error == ETIMEDOUT ||
         error == EACCES;
}

[[noreturn]] DUCTILE_INLINE void exec_program(const child_plan& plan) noexcept {
  char* const* argv = const_cast<char* const*>(plan.argv);
  char* const* envp = const_cast<char* const*>(plan.envp);
  if (plan.search_path == nullptr) {
    ::execve(plan.program, argv, envp);
    child_fail(plan, child_step::exec, errno);
  }
  std::size_t name_length = 0;
  while (plan.program[name_length] != '\0') ++name_length;
  char candidate[4096];
  int error = ENOENT;
  bool saw_access_denied = false;
  for (const char* entry = plan.search_path;;) {
    const char* entry_end = entry;
    while (*entry_end != '\0' && *entry_end != ':') ++entry_end;
    const std::size_t entry_length = entry_end == entry ? 1 : static_cast<std::size_t>(entry_end - entry);
    if (entry_length + 1 + name_length < sizeof candidate) {
      if (entry_end == entry) {
        candidate[0] = '.';  // an empty entry means the current directory
      } else {
        for (std::size_t i = 0; i < entry_length; ++i) candidate[i] = entry[i];
      }
      candidate[entry_length] = '/';
      for (std::size_t i = 0; i <= name_length; ++i) candidate[entry_length + 1 + i] = plan.program[i];
      ::execve(candidate, argv, envp);
      error = errno;
      if (error == EACCES) saw_access_denied = true;
      if (!keeps_searching(error)) break;
    } else {
      error = ENAMETOOLONG;
    }
    if (*entry_end == '\0') break;
    entry = entry_end + 1;
  }
  if (saw_access_denied && keeps_searching(error)) error = EACCES;
  child_fail(plan, child_step::exec, error);
}

DUCTILE_INLINE void run_forked_child(const child_plan& plan, open_descriptors inherited) noexcept {
  reset_signal_dispositions();
  if (plan.daemon != nullptr) {
    become_daemon(plan);
  } else if ((plan.credentials != nullptr && plan.credentials->new_session) || plan.controlling_terminal >= 0) {
    if (::setsid() < 0) child_fail(plan, child_step::session, errno);
  } else {
    enter_process_group(plan);
  }
  passed_sources passed;
  install_stdio(plan, passed);
  if (plan.controlling_terminal >= 0 && take_controlling_terminal(plan.controlling_terminal) != 0)
    child_fail(plan, child_step::terminal, errno);
  close_other_descriptors(inherited);
  install_passed(plan, passed);
  int pid_file = -1;
  if (plan.daemon != nullptr) {
    ::umask(027);  // a umask() modifier, applied with the credentials, overrides it
    if (plan.daemon->pid_file != nullptr) pid_file = lock_pid_file(plan);
  }
  if (plan.credentials != nullptr) apply_credentials(plan);
  if (pid_file >= 0) write_pid_file(plan, pid_file);
  if (plan.die_with != 0) {
    // After the user switch, which clears the request.
    if (kill_me_with_parent() != 0) child_fail(plan, child_step::parent_death, errno);
    // A parent that died before the request was made never sends it.
    if (::getppid() != plan.die_with) ::kill(::getpid(), SIGKILL);
  }
  const char* dir = plan.dir != nullptr ? plan.dir : (plan.daemon != nullptr ? "/" : nullptr);
  if (dir != nullptr && ::chdir(dir) != 0) child_fail(plan, child_step::chdir, errno);

  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  if (const int fault = sys::injected_fault(sys::call::exec)) child_fail(plan, child_step::exec, fault);
  exec_program(plan);
}

}  // namespace ductile::detail::posix

#endif  // DUCTILE_POSIX_BACKEND
#endif  // _WIN32
