// POSIX systems only: Windows has lib/os/windows/.
#ifndef _WIN32
#include "common.hpp"
#include "os/start_child.hpp"
#include "os/system_calls.hpp"

// The Linux backend: compiled away where the POSIX one is chosen.
#if DUCTILE_LINUX_BACKEND
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "os/linux/clone.hpp"
#include "os/linux/syscall_numbers.hpp"

#if defined(__SANITIZE_THREAD__)
#define DUCTILE_THREAD_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define DUCTILE_THREAD_SANITIZER 1
#endif
#endif
#ifndef DUCTILE_THREAD_SANITIZER
#define DUCTILE_THREAD_SANITIZER 0
#endif

namespace ductile::detail {

DUCTILE_INLINE start_mode usual_start_mode() noexcept {
  return DUCTILE_THREAD_SANITIZER ? start_mode::copied_memory : start_mode::shared_memory;
}

// Under ThreadSanitizer the child runs instrumented code, and that code takes
// the runtime's own locks. A raw clone copies them as they are, possibly held
// by another thread: the child then waits on one forever, and a CLONE_VFORK
// parent with it. The runtime takes them all around fork(), so there every
// child that does not share memory is made by fork(), its pidfd opened after.
// ductile's own fork handlers stand aside: this thread may hold a run's lock.
DUCTILE_INLINE long fork_for_thread_sanitizer([[maybe_unused]] int pidfd_flag, [[maybe_unused]] int& pidfd) noexcept {
#if DUCTILE_THREAD_SANITIZER
  pid_t pid;
  {
    const sys::forking_to_exec only_to_exec;
    pid = ::fork();
  }
  if (pid > 0 && pidfd_flag != 0) {
    // A kernel without pidfd_open (before 5.3) leaves -1, an answer like a clone that ignores the flag.
    const long opened = ::syscall(SYS_pidfd_open, pid, 0);
    pidfd = opened >= 0 ? static_cast<int>(opened) : -1;
  }
  return pid;
#else
  errno = ENOSYS;
  return -1;
#endif
}

DUCTILE_INLINE signals_blocked_for_clone::signals_blocked_for_clone() noexcept {
  unsigned long blocked[2] = {~0UL, ~0UL};
  kernel_sigaction child_signal{};
  if (syscall(SYS_rt_sigaction, SIGCHLD, nullptr, &child_signal, kernel_sigset_size) == 0 &&
      (child_signal.handler == reinterpret_cast<void*>(SIG_DFL) ||
       child_signal.handler == reinterpret_cast<void*>(SIG_IGN)))
    blocked[0] &= ~(1UL << (SIGCHLD - 1));
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, blocked, previous_, kernel_sigset_size);
}

DUCTILE_INLINE signals_blocked_for_clone::~signals_blocked_for_clone() {
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, previous_, nullptr, kernel_sigset_size);
}

// The child's stack: one per spawning thread, made on first use. With
// CLONE_VFORK the parent thread is suspended while the child uses it, so it is
// never shared. The pointer is a trivially destructible thread_local, so it
// stays usable after the thread's destructors ran: a spawn from an atexit
// handler or a static destructor finds it null and maps a new stack.
struct child_stack {
  static constexpr std::size_t guard = 4096;
  static constexpr std::size_t usable = 64 * 1024;
  static void*& base() noexcept {
    thread_local void* mapped = nullptr;
    return mapped;
  }
  // Unmaps the stack when the thread ends, and forgets it.
  struct releaser {
    ~releaser() {
      if (void*& mapped = base(); mapped != nullptr) {
        ::munmap(mapped, guard + usable);
        mapped = nullptr;
      }
    }
  };
  static void* top() noexcept {
    void*& mapped = base();
    if (mapped == nullptr) {
      void* memory =
          ::mmap(nullptr, guard + usable, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
      if (memory == MAP_FAILED) return nullptr;
      ::mprotect(memory, guard, PROT_NONE);  // stacks grow down: the guard sits below
      mapped = memory;
      thread_local releaser release_at_thread_exit;
      (void)release_at_thread_exit;
    }
    return static_cast<char*>(mapped) + guard + usable;
  }
};

// Whether children are held by pidfd is learnt once per process, at the
// first spawn, from what the kernel answers; never from a version string.
DUCTILE_INLINE std::atomic<int>& pidfd_state() noexcept {
  static std::atomic<int> state{static_cast<int>(pidfd_support::unknown)};
  return state;
}

DUCTILE_INLINE pidfd_support pidfds() noexcept {
  return static_cast<pidfd_support>(pidfd_state().load(std::memory_order_relaxed));
}

DUCTILE_INLINE void settle_pidfds(pidfd_support answer) noexcept {
  int expected = static_cast<int>(pidfd_support::unknown);
  pidfd_state().compare_exchange_strong(expected, static_cast<int>(answer), std::memory_order_relaxed);
}

// What clone answers when it will not take a flag (CLONE_PIDFD, CLONE_FILES
// with CLONE_VFORK): EINVAL (a kernel that knows the flag is invalid here, an
// emulator such as qemu-user, or a profile emulating one), ENOSYS or EPERM (a
// seccomp profile).
DUCTILE_INLINE bool refuses_flag(int error) noexcept { return error == EINVAL || error == ENOSYS || error == EPERM; }

// A pidfd is only useful if waitid(P_PIDFD) takes it (5.4). Asked of the
// first child, without reaping it. (A kernel or profile that refuses
// pidfd_send_signal is answered at each signal: the pid is signalled instead,
// which is as safe while the child is unreaped.)
DUCTILE_INLINE pidfd_support probe_pidfd(const process_handle& child) noexcept {
  if (!child.pidfd) return pidfd_support::absent;
  siginfo_t info{};
  const int saved_errno = errno;
  long rc;
  do {
    rc = ::syscall(SYS_waitid, waitid_pidfd, child.pidfd.get(), &info, WEXITED | WNOHANG | WNOWAIT, nullptr);
  } while (rc != 0 && errno == EINTR);
  errno = saved_errno;
  return rc == 0 ? pidfd_support::present : pidfd_support::absent;
}

// clone3 with CLONE_INTO_CGROUP (5.7): the child starts in the cgroup. The
// structure is clone_args up to its `cgroup` field (CLONE_ARGS_SIZE_VER2).
struct clone3_arguments {
  std::uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};
inline constexpr std::uint64_t clone_into_cgroup = 0x200000000ULL;

DUCTILE_INLINE std::atomic<bool>& clone3_refused() noexcept {
  static std::atomic<bool> refused{false};
  return refused;
}

// Like fork (no shared memory, CLONE_VFORK): returns 0 in the child.
DUCTILE_INLINE long clone_into_cgroup_vfork(int cgroup, int pidfd_flag, int& pidfd) noexcept {
  clone3_arguments args{};
  args.flags = CLONE_VFORK | clone_into_cgroup | static_cast<std::uint64_t>(pidfd_flag);
  args.pidfd = reinterpret_cast<std::uintptr_t>(&pidfd);
  args.exit_signal = SIGCHLD;
  args.cgroup = static_cast<std::uint64_t>(cgroup);
  return syscall(SYS_clone3, &args, sizeof args);
}

// Valgrind runs only the clone flag sets of fork, vfork and threads, and ends
// the whole process at any other, CLONE_VM | CLONE_VFORK | CLONE_FILES
// included. Its core library is preloaded into every program it runs.
DUCTILE_INLINE bool under_valgrind() noexcept {
  const char* preloaded = std::getenv("LD_PRELOAD");
  return preloaded != nullptr && std::strstr(preloaded, "vgpreload") != nullptr;
}

// Whether a child may borrow the parent's descriptor table until it has made
// its own (lib/os/linux/child.cpp, take_own_descriptor_table): learnt at the
// first child that could not, or from a clone that refused the flag.
DUCTILE_INLINE std::atomic<bool>& table_sharing_refused() noexcept {
  static std::atomic<bool> refused{under_valgrind()};
  return refused;
}

// A child that exited before it used anything: reaped and forgotten.
DUCTILE_INLINE void reap_unused_child(long pid, int& pidfd) noexcept {
  siginfo_t info{};
  while (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED) != 0 && errno == EINTR) {
  }
  if (pidfd >= 0) ::close(pidfd);
  pidfd = -1;
}

DUCTILE_INLINE started_child start_child(child_plan& plan, child_report& report, start_mode mode) noexcept {
  started_child result;
  const int saved_errno = errno;
  const auto failed = [&](std::error_code error, const char* step, const char* what) {
    result.error = error;
    result.step = step;
    result.what = what;
    errno = saved_errno;
    return std::move(result);
  };
  // clone3 cannot share memory without a stack switch in assembly; a child
  // entering a cgroup is made like fork, and reports through the pipe.
  if (plan.cgroup_directory >= 0 && mode == start_mode::shared_memory) mode = start_mode::copied_memory;
  void* stack_top = nullptr;
  pipe_ends channel;
  if (mode == start_mode::shared_memory) {
    stack_top = child_stack::top();
    if (stack_top == nullptr) return failed(sys::last_error(), "clone", "allocate a stack");
  } else if (mode == start_mode::daemon) {
    if (const auto error = sys::make_pipe(channel)) return failed(error, "pipe", "make a pipe");
  } else {
    // Made directly, not through the fault seam: this pipe stands in for the
    // shared memory of the usual path, which cannot fail.
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return failed(sys::last_error(), "pipe", "make a pipe");
    channel.read.reset(sys::keep_above_stdio(fds[0]));
    channel.write.reset(sys::keep_above_stdio(fds[1]));
  }
  plan.report = &report;
  plan.report_fd = channel.write ? channel.write.get() : -1;

  const auto clone_with = [&](int pidfd_flag, int& pidfd) -> long {
    switch (mode) {
      case start_mode::shared_memory: {
        constexpr int shared_memory_flags = CLONE_VM | CLONE_VFORK | SIGCHLD;
        const bool may_share = !table_sharing_refused().load(std::memory_order_relaxed);
        if (may_share) {
          plan.shares_descriptor_table = true;
          const long pid =
              ::clone(child_main, stack_top, shared_memory_flags | CLONE_FILES | pidfd_flag, &plan, &pidfd);
          plan.shares_descriptor_table = false;
          if (pid > 0 && report.step != child_step::descriptor_table) return pid;
          if (pid < 0 && !refuses_flag(errno)) return pid;
          // close_range(CLOSE_RANGE_UNSHARE) was refused, or clone would not
          // take CLONE_FILES (or CLONE_PIDFD: only a clone without the first
          // tells them apart).
          if (pid > 0) {
            reap_unused_child(pid, pidfd);
            report = child_report{};
          }
        }
        const long pid = ::clone(child_main, stack_top, shared_memory_flags | pidfd_flag, &plan, &pidfd);
        // From now on every child gets its copy of the table from clone.
        if (may_share && pid > 0) table_sharing_refused().store(true, std::memory_order_relaxed);
        return pid;
      }
      case start_mode::copied_memory: {
        long pid = -1;
        plan.cgroup_entered_at_clone = false;
        if (DUCTILE_THREAD_SANITIZER) {
          // The child enters its cgroup by writing its pid, as before 5.7.
          pid = fork_for_thread_sanitizer(pidfd_flag, pidfd);
          if (pid == 0) child_main(&plan);
          return pid;
        }
        if (plan.cgroup_directory >= 0 && !clone3_refused().load(std::memory_order_relaxed)) {
          plan.cgroup_entered_at_clone = true;
          pid = clone_into_cgroup_vfork(plan.cgroup_directory, pidfd_flag, pidfd);
          if (pid == 0) child_main(&plan);
          if (pid < 0) {
            // Before 5.7, or a profile that refuses clone3: the child enters
            // by writing its pid, before it runs anything of the user's.
            if (errno == ENOSYS || errno == E2BIG || errno == EPERM)
              clone3_refused().store(true, std::memory_order_relaxed);
            plan.cgroup_entered_at_clone = false;
          }
        }
        if (pid < 0) pid = syscall(SYS_clone, CLONE_VFORK | pidfd_flag | SIGCHLD, 0, &pidfd, 0, 0);
        if (pid == 0) child_main(&plan);
        return pid;
      }
      case start_mode::daemon: {
        const long pid = DUCTILE_THREAD_SANITIZER ? fork_for_thread_sanitizer(pidfd_flag, pidfd)
                                                  : syscall(SYS_clone, pidfd_flag | SIGCHLD, 0, &pidfd, 0, 0);
        if (pid == 0) child_main(&plan);
        return pid;
      }
    }
    return -1;
  };

  int pidfd = -1;
  long pid = -1;
  int clone_errno = 0;
  const pidfd_support known = pidfds();
  bool asked_for_pidfd = known != pidfd_support::absent;
  {
    const signals_blocked_for_clone blocked;
    if (const int fault = sys::injected_fault(sys::call::clone)) {
      clone_errno = fault;
    } else {
      pid = clone_with(asked_for_pidfd ? clone_pidfd : 0, pidfd);
      if (pid < 0) clone_errno = errno;
      if (pid < 0 && asked_for_pidfd && refuses_flag(clone_errno)) {
        // A kernel before 5.2, or a profile that refuses the flag: by pid from now on.
        settle_pidfds(pidfd_support::absent);
        asked_for_pidfd = false;
        pidfd = -1;
        pid = clone_with(0, pidfd);
        if (pid < 0) clone_errno = errno;
      }
    }
  }
  errno = saved_errno;
  channel.write.reset();  // the child holds the only write end now
  if (pid < 0) {
    result.error = std::error_code(clone_errno, std::generic_category());
    result.step = mode == start_mode::daemon ? "fork" : "clone";
    result.what = mode == start_mode::daemon ? "fork" : "create a process";
    return result;
  }
  result.process.pid = static_cast<pid_t>(pid);
  if (asked_for_pidfd) {
    // A kernel that ignores the flag leaves -1: that is an answer too.
    if (pidfd >= 0 && sys::injected_fault(sys::call::pidfd_flag) != 0) {
      ::close(pidfd);
      pidfd = -1;
    }
    if (pidfd >= 0) result.process.pidfd.reset(sys::keep_clear_of_new_descriptors(pidfd));
    // Asked again only while this spawn may be the one that finds out.
    if (known == pidfd_support::unknown) {
      settle_pidfds(probe_pidfd(result.process));
      if (pidfds() == pidfd_support::absent) result.process.pidfd.reset();
    }
  }
  if (mode == start_mode::daemon) {
    // The intermediate child exits as soon as it has forked the daemon.
    siginfo_t info{};
    if (sys::wait_process(result.process, info, WEXITED, nullptr)) sys::reap_now(result.process);
    result.process = process_handle{};
  }
  if (channel.read) read_child_reports(channel.read.get(), report);
  if (mode == start_mode::daemon) {
    result.process.pid = report.daemon;
  } else if (report.step != child_step::none) {
    // The child has exited already (the parent resumed only after that): reap it.
    sys::reap_now(result.process);
  }
  return result;
}

}  // namespace ductile::detail

#undef DUCTILE_THREAD_SANITIZER
#endif  // DUCTILE_LINUX_BACKEND
#endif  // _WIN32
