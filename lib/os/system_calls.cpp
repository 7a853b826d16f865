// POSIX systems only: Windows has lib/os/windows/.
#ifndef _WIN32
#include "os/system_calls.hpp"

#include "common.hpp"

// The system calls both backends make alike: POSIX.1-2008 alone, compiled in
// strict mode with the POSIX backend (meson.build).

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>

#include "os/attempt.hpp"

namespace ductile::detail::sys {

DUCTILE_INLINE std::error_code last_error() noexcept { return std::error_code(errno, std::generic_category()); }

namespace {

exit_status status_from(const siginfo_t& info) noexcept {
  switch (info.si_code) {
    case CLD_EXITED: return exit_status::exited(info.si_status);
    case CLD_DUMPED: return exit_status::killed(info.si_status, true);
    default: return exit_status::killed(info.si_status);
  }
}

exit_state exit_of(int options, const process_handle& child, process_exit& out) noexcept {
  // Filled by the kernel when the call succeeds; only si_pid is read when it
  // finds nothing (WNOHANG), so only it is cleared: every reap makes this call.
  siginfo_t info;
  info.si_pid = 0;
  rusage usage;
  if (wait_process(child, info, options, &usage)) {
    out = process_exit{};
    out.status = exit_status::exited(255);
    return exit_state::lost;
  }
  if (info.si_pid == 0) return exit_state::running;
  out.status = status_from(info);
  out.user_time = std::chrono::seconds(usage.ru_utime.tv_sec) + std::chrono::microseconds(usage.ru_utime.tv_usec);
  out.system_time = std::chrono::seconds(usage.ru_stime.tv_sec) + std::chrono::microseconds(usage.ru_stime.tv_usec);
  out.max_rss_kib = static_cast<std::size_t>(usage.ru_maxrss);
  return exit_state::ended;
}

}  // namespace

DUCTILE_INLINE exit_state collect_exit(const process_handle& child, process_exit& out) noexcept {
  return exit_of(WEXITED | WNOHANG, child, out);
}

DUCTILE_INLINE exit_state await_exit(const process_handle& child, process_exit& out) noexcept {
  return exit_of(WEXITED, child, out);
}

DUCTILE_INLINE std::string working_directory() {
  std::string buffer(256, '\0');
  for (;;) {
    if (::getcwd(buffer.data(), buffer.size()) != nullptr) {
      buffer.resize(std::char_traits<char>::length(buffer.c_str()));
      return buffer;
    }
    if (errno != ERANGE) return ".";
    buffer.resize(buffer.size() * 2);
  }
}

DUCTILE_INLINE int move_descriptor_up(int fd, int lowest) noexcept {
  const int saved = errno;
  const int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, lowest);
  errno = saved;
  if (moved < 0) return fd;  // out of descriptors: still valid where it is
  ::close(fd);
  return moved;
}

DUCTILE_INLINE int keep_above_stdio(int fd) noexcept {
  if (fd < 0 || fd > 2) return fd;
  return move_descriptor_up(fd, 3);
}

DUCTILE_INLINE int keep_clear_of_new_descriptors(int fd) noexcept {
  constexpr int crowded = 64;  // the size of the kernel's first descriptor table
  constexpr int clear = 1024;
  if (fd < 3) return keep_above_stdio(fd);
  if (fd < crowded || fd >= clear) return fd;
  const int saved = errno;
  const int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, clear);
  errno = saved;
  if (moved < 0) return fd;  // a soft limit of 1024 or less, or no room: it stays
  ::close(fd);
  return moved;
}

DUCTILE_INLINE std::error_code open_file(const char* path, int flags, unique_fd& out) noexcept {
  for (;;) {
    const long fd = attempt(call::open, [&] { return ::open(path, flags | O_CLOEXEC, 0666); });
    if (fd >= 0) {
      out.reset(keep_above_stdio(static_cast<int>(fd)));
      return {};
    }
    if (errno != EINTR) return last_error();
  }
}

DUCTILE_INLINE std::error_code make_private_directory(std::string& path_template) noexcept {
  if (::mkdtemp(path_template.data()) == nullptr) return last_error();
  return {};
}

DUCTILE_INLINE std::error_code duplicate(int fd, unique_fd& out) noexcept {
  const long copy = attempt(call::duplicate, [&] { return ::fcntl(fd, F_DUPFD_CLOEXEC, 3); });
  if (copy < 0) return last_error();
  out.reset(static_cast<int>(copy));
  return {};
}

DUCTILE_INLINE std::error_code duplicate_native(native_handle_type stream, unique_fd& out) noexcept {
  return duplicate(stream, out);
}

DUCTILE_INLINE native_handle_type native_handle_of(int fd) noexcept { return fd; }

DUCTILE_INLINE std::error_code set_nonblocking(int fd) noexcept {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) return last_error();
  return {};
}

DUCTILE_INLINE bool is_regular_file(int fd) noexcept {
  struct stat info {};
  return ::fstat(fd, &info) == 0 && S_ISREG(info.st_mode);
}

DUCTILE_INLINE bool is_executable_file(const char* path) noexcept {
  struct stat info {};
  if (::stat(path, &info) != 0 || !S_ISREG(info.st_mode)) return false;
  return ::faccessat(AT_FDCWD, path, X_OK, AT_EACCESS) == 0;
}

DUCTILE_INLINE void* allocate_aligned(std::size_t alignment, std::size_t size) noexcept {
  return std::aligned_alloc(alignment, size);
}

DUCTILE_INLINE void free_aligned(void* data) noexcept { std::free(data); }

DUCTILE_INLINE std::error_code read_some(int fd, char* buffer, std::size_t size, std::size_t& done) noexcept {
  for (;;) {
    const long n = attempt(call::read, [&] { return ::read(fd, buffer, size); });
    if (n >= 0) {
      done = static_cast<std::size_t>(n);
      return {};
    }
    if (errno != EINTR) return last_error();
  }
}

DUCTILE_INLINE std::error_code write_some(int fd, const char* data, std::size_t size, std::size_t& done) noexcept {
  // A pipe whose reader has gone raises SIGPIPE in the writing thread, and its
  // default action kills the whole process. Block it around the write, and if
  // this write raised it, consume it before unblocking so nothing is delivered
  // (sigwait, not sigtimedwait, which macOS lacks).
  sigset_t pipe_only, previous;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  sigset_t pending;
  sigpending(&pending);
  const bool was_pending = sigismember(&pending, SIGPIPE) == 1;
  pthread_sigmask(SIG_BLOCK, &pipe_only, &previous);
  long n;
  do {
    n = attempt(call::write, [&] { return ::write(fd, data, size); });
  } while (n < 0 && errno == EINTR);
  const int saved = errno;
  if (n < 0 && saved == EPIPE && !was_pending) {
    // sigwait blocks, so only where the signal is surely pending: a write
    // that failed with EPIPE raised it in this thread, where it is blocked.
    sigpending(&pending);
    if (sigismember(&pending, SIGPIPE) == 1) {
      int consumed = 0;
      sigwait(&pipe_only, &consumed);
    }
  }
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  if (n < 0) return std::error_code(saved, std::generic_category());
  done = static_cast<std::size_t>(n);
  return {};
}

DUCTILE_INLINE void signal_group(pid_t group, int signal) noexcept { ::kill(-group, signal); }

// ductile's own fork handlers, run from one set the C library calls: a fork
// that only starts a child to exec skips them (see forking_only_to_exec()).
// Registered rarely (once per kind of process-wide state), read at each fork.
struct fork_handler_table {
  struct entry {
    void (*before)();
    void (*in_parent)();
    void (*in_child)();
  };
  static constexpr int capacity = 8;
  entry entries[capacity] = {};
  std::atomic<int> count{0};
  // Not std::mutex: <mutex> does not compile in the strict POSIX mode of this file.
  pthread_mutex_t adding = PTHREAD_MUTEX_INITIALIZER;
};

DUCTILE_INLINE fork_handler_table& fork_handlers() noexcept {
  static fork_handler_table* const table = new fork_handler_table();  // a fork may come while statics are destroyed
  return *table;
}

DUCTILE_INLINE bool& forking_only_to_exec() noexcept {
  thread_local bool only_to_exec = false;
  return only_to_exec;
}

// As pthread_atfork orders them: the last registered runs first before the
// fork, and first registered first after it.
DUCTILE_INLINE void run_fork_handlers_before() {
  if (forking_only_to_exec()) return;
  fork_handler_table& table = fork_handlers();
  for (int i = table.count.load(std::memory_order_acquire); i-- > 0;) table.entries[i].before();
}
DUCTILE_INLINE void run_fork_handlers_in_parent() {
  if (forking_only_to_exec()) return;
  fork_handler_table& table = fork_handlers();
  const int count = table.count.load(std::memory_order_acquire);
  for (int i = 0; i < count; ++i) table.entries[i].in_parent();
}
DUCTILE_INLINE void run_fork_handlers_in_child() {
  if (forking_only_to_exec()) return;
  fork_handler_table& table = fork_handlers();
  // Another thread may have been adding at the fork: the child has none.
  ::pthread_mutex_init(&table.adding, nullptr);
  const int count = table.count.load(std::memory_order_acquire);
  for (int i = 0; i < count; ++i) table.entries[i].in_child();
}

DUCTILE_INLINE void call_around_fork(void (*before)(), void (*in_parent)(), void (*in_child)()) noexcept {
  fork_handler_table& table = fork_handlers();
  ::pthread_mutex_lock(&table.adding);
  const int count = table.count.load(std::memory_order_relaxed);
  if (count == 0) ::pthread_atfork(run_fork_handlers_before, run_fork_handlers_in_parent, run_fork_handlers_in_child);
  if (count < fork_handler_table::capacity) {
    table.entries[count] = {before, in_parent, in_child};
    table.count.store(count + 1, std::memory_order_release);
  } else {
    ::pthread_atfork(before, in_parent, in_child);  // never with ductile's own few
  }
  ::pthread_mutex_unlock(&table.adding);
}

// Room for every signal number: NSIG is not POSIX's, and 128 is the most
// any system has.
inline constexpr int signal_slots = 129;

DUCTILE_INLINE bool can_catch(int signal) noexcept {
  // sigaddset() refuses a number that names no signal here.
  sigset_t probe;
  sigemptyset(&probe);
  return signal > 0 && signal < signal_slots && sigaddset(&probe, signal) == 0 && signal != SIGKILL &&
         signal != SIGSTOP;
}

// Immortal: a signal may come while static destructors run.
DUCTILE_INLINE struct sigaction* replaced_dispositions() noexcept {
  static struct sigaction* const replaced = new struct sigaction[signal_slots]();
  return replaced;
}

DUCTILE_INLINE std::error_code catch_signal(int signal, signal_handler handler) noexcept {
  struct sigaction record {};
  record.sa_handler = handler;
  record.sa_flags = SA_RESTART;
  sigemptyset(&record.sa_mask);
  if (::sigaction(signal, &record, &replaced_dispositions()[signal]) != 0) return last_error();
  return {};
}

DUCTILE_INLINE void restore_signal(int signal) noexcept {
  ::sigaction(signal, &replaced_dispositions()[signal], nullptr);
}

DUCTILE_INLINE void accept_child_signals() noexcept {
  sigset_t child;
  sigemptyset(&child);
  sigaddset(&child, SIGCHLD);
  ::pthread_sigmask(SIG_UNBLOCK, &child, nullptr);
}

DUCTILE_INLINE thread_signals_blocked::thread_signals_blocked() noexcept {
  sigset_t all;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &previous_);
}

DUCTILE_INLINE thread_signals_blocked::~thread_signals_blocked() {
  ::pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
}

}  // namespace ductile::detail::sys
#endif  // _WIN32
