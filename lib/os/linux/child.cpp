// The child between clone and exec.
//
// Async-signal-safety: this code runs on a borrowed stack in memory shared
// with the suspended parent (CLONE_VM | CLONE_VFORK). It may only make raw
// system calls: no allocation, no locks, no stdio, no NSS, no libc function
// that touches shared state. Everything it needs was prepared by the parent.
// `syscall()` is used for every call; on failure it stores errno in the
// parent thread's TLS slot, which the parent saves and restores around clone.
// Every function here has hidden visibility: in the shared library a call to
// a default-visibility function goes through the PLT, and with lazy binding
// its first call would run the dynamic linker in the child, writing the GOT
// the parent shares. The only libc entry points reached are `syscall` and
// `__errno_location`, both bound by the parent before the first clone (and the
// library is linked with -z now); tests/os/child_calls.py checks the machine code.
// POSIX systems only: Windows has lib/os/windows/.
#ifndef _WIN32
#include "common.hpp"
#include "os/child_plan.hpp"
#include "os/system_calls.hpp"

// The Linux backend: compiled away where the POSIX one is chosen.
#if DUCTILE_LINUX_BACKEND
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>

#include "os/linux/child.hpp"
#include "os/linux/syscall_numbers.hpp"

// The kernel structures and calls below are checked for these architectures
// only: elsewhere `struct sigaction` may put the flags first (MIPS) or use
// another sigset size, and the id calls may differ.
#if !defined(__x86_64__) && !defined(__i386__) && !defined(__aarch64__) && !defined(__arm__) && \
    !(defined(__riscv) && __riscv_xlen == 64)
#error "ductile's child code has not been checked on this architecture (see lib/os/linux/child.cpp)"
#endif

#define DUCTILE_CHILD_CODE DUCTILE_INLINE DUCTILE_HIDDEN

namespace ductile::detail {

// On 32-bit x86 and ARM the plain calls take 16-bit ids (uid 100000 would
// become 34464, group 1001 would become 1001 & 0xffff); the *32 calls take
// full ids. Elsewhere only the full-width calls exist.
namespace id_calls {
#if defined(SYS_setresuid32)
inline constexpr long setgroups = SYS_setgroups32;
inline constexpr long setresgid = SYS_setresgid32;
inline constexpr long setresuid = SYS_setresuid32;
#else
inline constexpr long setgroups = SYS_setgroups;
inline constexpr long setresgid = SYS_setresgid;
inline constexpr long setresuid = SYS_setresuid;
#endif
}  // namespace id_calls

inline constexpr int highest_signal = 64;
// From <linux/close_range.h>, which older C libraries lack.
inline constexpr unsigned close_range_unshare = 1U << 1;
inline constexpr unsigned close_range_cloexec = 1U << 2;

DUCTILE_CHILD_CODE void tell_parent(const child_plan& plan, const child_message& message) noexcept {
  if (plan.report_fd >= 0)
    syscall(SYS_write, plan.report_fd, &message, sizeof message);
  else
    plan.report->record(message);
}

[[noreturn]] DUCTILE_CHILD_CODE void child_fail(const child_plan& plan, child_step step, int error) noexcept {
  tell_parent(plan, child_message{child_message::kind::failed, step, error, 0});
  for (;;) syscall(SYS_exit_group, 127);
}

// One past the highest descriptor the child takes from the parent's table.
DUCTILE_CHILD_CODE int first_unused_descriptor(const child_plan& plan) noexcept {
  int end = 3;
  for (const int fd : plan.stdio)
    if (fd >= end) end = fd + 1;
  for (std::size_t i = 0; i < plan.passed_count; ++i)
    if (plan.passed[i].source >= end) end = plan.passed[i].source + 1;
  const int others[] = {plan.controlling_terminal, plan.cgroup_procs, plan.report_fd};
  for (const int fd : others)
    if (fd >= end) end = fd + 1;
  return end;
}

// A child cloned with CLONE_FILES borrows the parent's descriptor table
// instead of having clone copy it: a copy takes a reference on every open
// descriptor, so a parent holding thousands of live children (a pidfd each)
// paid for all of them at every spawn. The child makes its own table before
// it touches any descriptor: close_range with CLOSE_RANGE_UNSHARE (5.9)
// copies only the slots below the first one it closes, the few the child
// uses. Where that is refused (an older kernel, a profile) the child exits
// untouched and the parent clones it again the old way
// (lib/os/linux/clone.cpp). unshare(CLONE_FILES) is not tried: a profile may
// kill a process for calling it, where clone's own copy is always allowed.
DUCTILE_CHILD_CODE void take_own_descriptor_table(const child_plan& plan) noexcept {
  const auto first_closed = static_cast<unsigned>(first_unused_descriptor(plan));
  if (syscall(SYS_close_range, first_closed, ~0U, close_range_unshare) != 0)
    child_fail(plan, child_step::descriptor_table, errno);
}

// Children start with default dispositions, even for signals the parent
// ignores or handles: a handler of the parent must never run here, on shared
// memory. Signals are blocked until just before exec (all but SIGCHLD when
// the parent leaves it unhandled, which can then do nothing here).
DUCTILE_CHILD_CODE void reset_signal_dispositions() noexcept {
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

// Where each passed descriptor is while the child sets up: a copy above every
// target when the original sits where another descriptor is going.
struct passed_sources {
  int fd[most_passed_fds];
};

DUCTILE_CHILD_CODE void install_stdio(const child_plan& plan, passed_sources& passed) noexcept {
  int limit = 3;  // above every target
  for (std::size_t i = 0; i < plan.passed_count; ++i)
    if (plan.passed[i].target >= limit) limit = plan.passed[i].target + 1;
  // A source below the targets that moves elsewhere could be overwritten by
  // another target's dup (a swap of 1 and 2, say), so every such source is
  // first copied above them. The copies are close-on-exec and vanish at exec.
  for (std::size_t i = 0; i < plan.passed_count; ++i) {
    passed.fd[i] = plan.passed[i].source;
    if (passed.fd[i] == plan.passed[i].target || passed.fd[i] >= limit) continue;
    const long copy = syscall(SYS_fcntl, passed.fd[i], F_DUPFD_CLOEXEC, limit);
    if (copy < 0) child_fail(plan, child_step::pass_fds, errno);
    passed.fd[i] = static_cast<int>(copy);
  }
  int source[3] = {plan.stdio[0], plan.stdio[1], plan.stdio[2]};
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

// After every other descriptor was marked close-on-exec: the passed ones
// arrive without the mark.
DUCTILE_CHILD_CODE void install_passed(const child_plan& plan, const passed_sources& passed) noexcept {
  for (std::size_t i = 0; i < plan.passed_count; ++i) {
    const int target = plan.passed[i].target;
    const long done =
        passed.fd[i] == target ? syscall(SYS_fcntl, target, F_SETFD, 0) : syscall(SYS_dup3, passed.fd[i], target, 0);
    if (done < 0) child_fail(plan, child_step::pass_fds, errno);
  }
}

// The head of the kernel's struct linux_dirent64; the name follows it.
struct directory_entry {
  std::uint64_t inode;
  std::int64_t offset;
  unsigned short length;
  unsigned char type;
  char name[1];
};

// Marks every open descriptor above 2 close-on-exec, as listed by
// /proc/self/fd: the cost follows what is open, not RLIMIT_NOFILE (which may
// be 2^30), and descriptors above a lowered soft limit are found too. False
// if /proc cannot be read.
DUCTILE_CHILD_CODE bool mark_listed_descriptors() noexcept {
  const long dir = syscall(SYS_openat, AT_FDCWD, "/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return false;
  alignas(8) char entries[2048];
  bool complete = true;
  for (;;) {
    const long got = syscall(SYS_getdents64, dir, entries, sizeof entries);
    if (got <= 0) {
      complete = got == 0;
      break;
    }
    for (long at = 0; at < got;) {
      const auto* entry = reinterpret_cast<const directory_entry*>(entries + at);
      at += entry->length;
      long fd = 0;
      const char* digit = entry->name;
      for (; *digit >= '0' && *digit <= '9'; ++digit) fd = fd * 10 + (*digit - '0');
      if (*digit != '\0' || digit == entry->name || fd < 3 || fd == dir) continue;
      syscall(SYS_fcntl, static_cast<int>(fd), F_SETFD, FD_CLOEXEC);
    }
  }
  syscall(SYS_close, dir);
  return complete;
}

// Without /proc: every slot up to the hard limit, asking poll() which are
// open 128 at a time (POLLNVAL marks a closed one), so each system call covers
// many slots. Bounded by the kernel's default fs.nr_open.
DUCTILE_CHILD_CODE void mark_descriptors_by_polling() noexcept {
  struct {
    unsigned long current, maximum;
  } limit{1024, 1024};
  syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, nullptr, &limit);
  unsigned long end = limit.maximum > limit.current ? limit.maximum : limit.current;
  if (end > (1UL << 20)) end = 1UL << 20;
  constexpr unsigned long batch = 128;
  struct pollfd slots[batch];
  for (unsigned long first = 3; first < end; first += batch) {
    const unsigned long count = end - first < batch ? end - first : batch;
    for (unsigned long i = 0; i < count; ++i) slots[i] = pollfd{static_cast<int>(first + i), 0, 0};
    const timespec zero{0, 0};
    if (syscall(SYS_ppoll, slots, count, &zero, nullptr, 0) < 0) {
      for (unsigned long i = 0; i < count; ++i) syscall(SYS_fcntl, static_cast<int>(first + i), F_SETFD, FD_CLOEXEC);
      continue;
    }
    for (unsigned long i = 0; i < count; ++i)
      if ((slots[i].revents & POLLNVAL) == 0) syscall(SYS_fcntl, slots[i].fd, F_SETFD, FD_CLOEXEC);
  }
}

// Nothing but 0, 1 and 2 may reach the program, even descriptors the host
// program opened without O_CLOEXEC. This marks the child's own table only.
// close_range may be missing (before 5.9: ENOSYS; before 5.11 the flag:
// EINVAL) or refused by a seccomp profile (EPERM, or anything): whatever it
// answers, the descriptors are then found another way.
DUCTILE_CHILD_CODE void close_other_descriptors() noexcept {
  if (syscall(SYS_close_range, 3U, ~0U, close_range_cloexec) == 0) return;
  if (mark_listed_descriptors()) return;
  mark_descriptors_by_polling();
}

// PATH_MAX: a longer candidate could not be executed anyway.
inline constexpr std::size_t path_buffer_size = 4096;

// Plain loops: the child may not rely on anything but system calls. The
// volatile accesses keep compilers from recognising the loops and calling
// strlen or memcpy through the PLT instead.
DUCTILE_CHILD_CODE std::size_t text_length(const char* text) noexcept {
  const volatile char* at = text;
  std::size_t n = 0;
  while (at[n] != '\0') ++n;
  return n;
}

DUCTILE_CHILD_CODE void copy_bytes(char* to, const char* from, std::size_t count) noexcept {
  volatile char* target = to;
  for (std::size_t i = 0; i < count; ++i) target[i] = from[i];
}

// The value of PATH in `envp`, or execvp's default when it has none.
DUCTILE_CHILD_CODE const char* inherited_path(const char* const* envp) noexcept {
  if (envp != nullptr)
    for (; *envp != nullptr; ++envp) {
      const volatile char* entry = *envp;
      if (entry[0] == 'P' && entry[1] == 'A' && entry[2] == 'T' && entry[3] == 'H' && entry[4] == '=') return *envp + 5;
    }
  return "/bin:/usr/bin";
}

// execvp's rules: keep searching after "not there" errors, remember EACCES.
DUCTILE_CHILD_CODE bool keeps_searching(int error) noexcept {
  return error == ENOENT || error == ENOTDIR || error == ESTALE || error == ELOOP || error == ENAMETOOLONG ||
         error == ENODEV || error == ETIMEDOUT || error == EACCES;
}

// Joining the group of the subtree's first process fails once every member of
// that group has been reaped (a later stage of a `then`): lead a new one then.
DUCTILE_CHILD_CODE void enter_process_group(const child_plan& plan) noexcept {
  if (plan.process_group < 0) return;
  if (plan.process_group > 0 && syscall(SYS_setpgid, 0, plan.process_group) == 0) return;
  if (syscall(SYS_setpgid, 0, 0) != 0) child_fail(plan, child_step::process_group, errno);
  tell_parent(plan, child_message{child_message::kind::made_group, child_step::none, 0, 0});
}

struct kernel_capability_header {
  std::uint32_t version;
  int pid;
};
struct kernel_capability_data {
  std::uint32_t effective, permitted, inheritable;
};
inline constexpr std::uint32_t kernel_capability_version_3 = 0x20080522;

// The credential steps, in the only order that works: capabilities must be
// made inheritable and kept before the uid switch clears them, the bounding
// set can only be dropped while cap_setpcap is still held, groups before gid
// before uid because each needs the privilege the next one gives up, and
// ambient last because it needs the final permitted and inheritable sets.
DUCTILE_CHILD_CODE void apply_credentials(const child_plan& plan) noexcept {
  const child_credentials& c = *plan.credentials;
  if (c.umask >= 0) syscall(SYS_umask, c.umask);
  if (c.keep && c.switch_ids && syscall(SYS_prctl, PR_SET_KEEPCAPS, 1UL, 0UL, 0UL, 0UL) != 0)
    child_fail(plan, child_step::keep_caps, errno);
  if (c.keep) {
    kernel_capability_header header{kernel_capability_version_3, 0};
    kernel_capability_data data[2] = {};
    if (syscall(SYS_capget, &header, data) != 0) child_fail(plan, child_step::inheritable, errno);
    data[0].inheritable |= static_cast<std::uint32_t>(c.kept);
    data[1].inheritable |= static_cast<std::uint32_t>(c.kept >> 32);
    if (syscall(SYS_capset, &header, data) != 0) child_fail(plan, child_step::inheritable, errno);
  }
  if (c.change_bounding) {
    for (int cap = 0; cap <= c.last_capability && cap < 64; ++cap) {
      if ((c.bounding_drops & (std::uint64_t{1} << cap)) == 0) continue;
      if (syscall(SYS_prctl, PR_CAPBSET_DROP, static_cast<unsigned long>(cap), 0UL, 0UL, 0UL) != 0)
        child_fail(plan, child_step::bounding, errno);
    }
  }
  if (c.switch_ids) {
    if (syscall(id_calls::setgroups, c.group_count, c.groups) != 0) child_fail(plan, child_step::setgroups, errno);
    if (syscall(id_calls::setresgid, c.gid, c.gid, c.gid) != 0) child_fail(plan, child_step::setresgid, errno);
    if (syscall(id_calls::setresuid, c.uid, c.uid, c.uid) != 0) child_fail(plan, child_step::setresuid, errno);
  }
  if (c.keep) {
    kernel_capability_header header{kernel_capability_version_3, 0};
    kernel_capability_data data[2] = {};
    for (int word = 0; word < 2; ++word) {
      const auto bits = static_cast<std::uint32_t>(c.kept >> (32 * word));
      data[word] = kernel_capability_data{bits, bits, bits};
    }
    if (syscall(SYS_capset, &header, data) != 0) child_fail(plan, child_step::capset, errno);
    for (int cap = 0; cap < 64; ++cap) {
      if ((c.kept & (std::uint64_t{1} << cap)) == 0) continue;
      if (syscall(SYS_prctl, PR_CAP_AMBIENT, static_cast<unsigned long>(PR_CAP_AMBIENT_RAISE),
                  static_cast<unsigned long>(cap), 0UL, 0UL) != 0)
        child_fail(plan, child_step::ambient, errno);
    }
  }
  if (c.no_new_privs && syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1UL, 0UL, 0UL, 0UL) != 0)
    child_fail(plan, child_step::no_new_privs, errno);
}

// The daemon holds its pid file locked for its whole life: the descriptor is
// opened without close-on-exec so the lock survives exec.
DUCTILE_CHILD_CODE int lock_pid_file(const child_plan& plan) noexcept {
  const long fd = syscall(SYS_open, plan.daemon->pid_file, O_WRONLY | O_CREAT | O_NOFOLLOW, 0644);
  if (fd < 0) child_fail(plan, child_step::pid_file, errno);
  if (syscall(SYS_flock, fd, LOCK_EX | LOCK_NB) != 0) child_fail(plan, child_step::pid_file, errno);
  return static_cast<int>(fd);
}

DUCTILE_CHILD_CODE void write_pid_file(const child_plan& plan, int fd) noexcept {
  char digits[24];
  int at = sizeof digits;
  digits[--at] = '\n';
  for (long pid = syscall(SYS_getpid); pid > 0 || at == static_cast<int>(sizeof digits) - 1; pid /= 10)
    digits[--at] = static_cast<char>('0' + pid % 10);
  if (syscall(SYS_ftruncate, fd, 0) != 0 ||
      syscall(SYS_write, fd, digits + at, sizeof digits - static_cast<std::size_t>(at)) < 0)
    child_fail(plan, child_step::pid_file, errno);
}

// Double fork: the first child leads a new session and forks the daemon,
// which is then no session leader and can never acquire a terminal.
DUCTILE_CHILD_CODE void become_daemon(const child_plan& plan) noexcept {
  if (syscall(SYS_setsid) < 0) child_fail(plan, child_step::session, errno);
  const long pid = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
  if (pid < 0) child_fail(plan, child_step::fork, errno);
  if (pid > 0) {
    tell_parent(plan, child_message{child_message::kind::daemon_started, child_step::none, 0, static_cast<pid_t>(pid)});
    for (;;) syscall(SYS_exit_group, 0);
  }
}

// own_cgroup() where clone could not enter the cgroup: before anything of the
// user's runs, so nothing can leave before it is contained.
DUCTILE_CHILD_CODE void join_cgroup(const child_plan& plan) noexcept {
  char digits[24];
  std::size_t length = 0;
  for (unsigned long pid = static_cast<unsigned long>(syscall(SYS_getpid)); pid != 0 || length == 0; pid /= 10)
    digits[sizeof digits - ++length] = static_cast<char>('0' + pid % 10);
  if (syscall(SYS_write, plan.cgroup_procs, digits + sizeof digits - length, length) != static_cast<long>(length))
    child_fail(plan, child_step::cgroup, errno);
}

DUCTILE_CHILD_CODE int child_main(void* argument) noexcept {
  const child_plan& plan = *static_cast<const child_plan*>(argument);
  if (plan.shares_descriptor_table) take_own_descriptor_table(plan);
  if (plan.cgroup_procs >= 0 && !plan.cgroup_entered_at_clone) join_cgroup(plan);
  reset_signal_dispositions();
  if (plan.daemon != nullptr) {
    become_daemon(plan);
  } else if ((plan.credentials != nullptr && plan.credentials->new_session) || plan.controlling_terminal >= 0) {
    // A new session also makes a new process group; setsid fails for a group leader.
    if (syscall(SYS_setsid) < 0) child_fail(plan, child_step::session, errno);
  } else {
    enter_process_group(plan);
  }
  passed_sources passed;
  install_stdio(plan, passed);
  if (plan.controlling_terminal >= 0 && syscall(SYS_ioctl, plan.controlling_terminal, TIOCSCTTY, 0) != 0)
    child_fail(plan, child_step::terminal, errno);
  close_other_descriptors();
  install_passed(plan, passed);
  int pid_file = -1;
  if (plan.daemon != nullptr) {
    syscall(SYS_umask, 027);  // a umask() modifier, applied with the credentials, overrides it
    if (plan.daemon->pid_file != nullptr) pid_file = lock_pid_file(plan);
  }
  if (plan.credentials != nullptr) apply_credentials(plan);
  if (pid_file >= 0) write_pid_file(plan, pid_file);
  if (plan.die_with != 0) {
    // After the user switch, which clears the request.
    if (syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) child_fail(plan, child_step::parent_death, errno);
    // A parent that died before the request was made never sends it.
    if (syscall(SYS_getppid) != plan.die_with) syscall(SYS_kill, syscall(SYS_getpid), SIGKILL);
  }
  const char* dir = plan.dir != nullptr ? plan.dir : (plan.daemon != nullptr ? "/" : nullptr);
  if (dir != nullptr && syscall(SYS_chdir, dir) != 0) child_fail(plan, child_step::chdir, errno);

  unsigned long empty_mask[2] = {0, 0};
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, empty_mask, nullptr, kernel_sigset_size);

  if (const int fault = sys::injected_fault(sys::call::exec)) child_fail(plan, child_step::exec, fault);
  const char* const search_path = plan.search_inherited_path ? inherited_path(plan.envp) : plan.search_path;
  if (search_path == nullptr) {
    syscall(SYS_execve, plan.program, plan.argv, plan.envp);
    child_fail(plan, child_step::exec, errno);
  }
  // execvp's search, with each candidate built on this stack: no allocation.
  const std::size_t name_length = text_length(plan.program);
  char candidate[path_buffer_size];
  int error = ENOENT;
  bool saw_access_denied = false;
  for (const char* entry = search_path;;) {
    const char* entry_end = entry;
    while (*entry_end != '\0' && *entry_end != ':') ++entry_end;
    const std::size_t entry_length = entry_end == entry ? 1 : static_cast<std::size_t>(entry_end - entry);
    if (entry_length + 1 + name_length < sizeof candidate) {
      if (entry_end == entry)
        candidate[0] = '.';  // an empty entry means the current directory
      else
        copy_bytes(candidate, entry, entry_length);
      candidate[entry_length] = '/';
      copy_bytes(candidate + entry_length + 1, plan.program, name_length + 1);
      syscall(SYS_execve, candidate, plan.argv, plan.envp);
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

}  // namespace ductile::detail

#undef DUCTILE_CHILD_CODE

#endif  // DUCTILE_LINUX_BACKEND
#endif  // _WIN32
