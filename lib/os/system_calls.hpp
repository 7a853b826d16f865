#pragma once
// The thin layer of system calls the executor makes in the parent. Every call
// retries EINTR and reports failure as a std::error_code, so errno never
// leaks across layers. Tests make these calls fail through the fault seam at
// the end of this file; a process without an injector pays one atomic load.

#include <sys/types.h>
#ifndef _WIN32
#include <signal.h>
#include <sys/resource.h>
#endif

#include <chrono>
#include <cstddef>
#include <ductile/native.hpp>
#include <ductile/output.hpp>
#include <string>
#include <system_error>

#include "os/descriptor.hpp"
#include "os/polled_stream.hpp"

namespace ductile::detail::sys {

std::error_code last_error() noexcept;
// What a call this system cannot make reports: "not supported on this
// system", which compares equal to std::errc::not_supported.
inline const std::error_category& unsupported_category() noexcept {
  struct category final : std::error_category {
    const char* name() const noexcept override { return "ductile"; }
    std::string message(int) const override { return "not supported on this system"; }
    std::error_condition default_error_condition(int) const noexcept override {
      return std::make_error_condition(std::errc::not_supported);
    }
  };
  static const category instance;
  return instance;
}
inline std::error_code not_supported() noexcept { return std::error_code(1, unsupported_category()); }

// This process's working directory ("." if it cannot be named).
std::string working_directory();

// Every descriptor made here is close-on-exec from birth and numbered 3 or
// above: a host may have closed its own 0, 1 or 2 (daemons do), and one of
// ours in that slot would look to a child like the stream it inherits, then
// vanish at exec. keep_above_stdio moves `fd` up if it can, and returns it.
int keep_above_stdio(int fd) noexcept;
// Moves `fd` to `lowest` or above (close-on-exec), and returns it; where it
// cannot, `fd` stays where it is.
int move_descriptor_up(int fd, int lowest) noexcept;
// For a descriptor held as long as a run lives (a pidfd, the parent's end of
// a capture or stdin pipe): once the low numbers are crowded, moved to 1024
// or above where the soft limit allows. New descriptors take the lowest free
// numbers, and a child copies only the slots below the highest one it uses
// (lib/os/linux/child.cpp): what live runs hold, kept out of that range,
// costs the next spawn nothing.
int keep_clear_of_new_descriptors(int fd) noexcept;
std::error_code make_pipe(pipe_ends& ends) noexcept;
// A pipe whose one end the parent keeps and reads (or writes) itself; the
// other end goes to a child. Windows makes the parent's end overlapped, for
// its completion port; elsewhere it is make_pipe().
#ifdef _WIN32
std::error_code make_parent_pipe(pipe_ends& ends, bool parent_reads) noexcept;
#else
inline std::error_code make_parent_pipe(pipe_ends& ends, bool) noexcept { return make_pipe(ends); }
#endif
std::error_code open_file(const char* path, int flags, unique_fd& out) noexcept;
// The file that reads as empty and swallows writes.
#ifdef _WIN32
inline constexpr const char* null_device = "NUL";
#else
inline constexpr const char* null_device = "/dev/null";
#endif
// mkdtemp(): `path_template` ends in XXXXXX, which become the new directory's
// name (mode 0700).
std::error_code make_private_directory(std::string& path_template) noexcept;
std::error_code duplicate(int fd, unique_fd& out) noexcept;
// A copy of a stream the user hands over (stdin_file() and the like), held as
// the run holds its own; and the user's name for one the run holds.
std::error_code duplicate_native(native_handle_type stream, unique_fd& out) noexcept;
native_handle_type native_handle_of(int fd) noexcept;
#ifdef _WIN32
// A Win32 event set while `fd`, a stream the parent reads, can be read
// without waiting: for a wait outside the library (Asio's object_handle).
native_handle_type readable_event(int fd) noexcept;
#endif
std::error_code set_nonblocking(int fd) noexcept;
bool is_regular_file(int fd) noexcept;
// What the system would start: a regular file this process may execute.
bool is_executable_file(const char* path) noexcept;
// Asks for a pipe buffer of `bytes`; the kernel may refuse (quota), which is harmless.
void resize_pipe(int fd, std::size_t bytes) noexcept;
// Returns bytes read, 0 at end of file; EAGAIN comes back as an error code.
std::error_code read_some(int fd, char* buffer, std::size_t size, std::size_t& done) noexcept;
// A write that cannot raise SIGPIPE in this process: EPIPE comes back as an error code.
std::error_code write_some(int fd, const char* data, std::size_t size, std::size_t& done) noexcept;
// Waits for events, at most `timeout` (to the nanosecond: a child held by pid
// is looked at sooner than a millisecond); a negative timeout waits forever.
// EINTR returns with no events.
std::error_code poll_fds(os::polled_stream* fds, std::size_t count, std::chrono::nanoseconds timeout,
                         int& ready) noexcept;
// A descriptor another thread can make readable: an eventfd on Linux, a pipe
// elsewhere. Close-on-exec and non-blocking; signal makes it readable, drain
// empties it.
struct event {
  unique_fd readable;  // polled, and drained
  unique_fd writer;    // empty where `readable` takes the writes too (an eventfd)
  explicit operator bool() const noexcept { return static_cast<bool>(readable); }
};
std::error_code make_event(unsigned int initial, event& out) noexcept;
void signal_event(const event& target) noexcept;
void drain_event(const event& target) noexcept;
#ifndef _WIN32
// waitid on the child: by pidfd where it has one, else by pid. With WNOHANG,
// info.si_pid stays 0 while the child runs.
std::error_code wait_process(const process_handle& child, siginfo_t& info, int options, rusage* usage) noexcept;
#endif
// How a child ended, as a run records it: its status and what the kernel
// accounted for it.
struct process_exit {
  exit_status status;
  std::chrono::microseconds user_time{0};
  std::chrono::microseconds system_time{0};
  std::size_t max_rss_kib = 0;
};
enum class exit_state { running, ended, lost };
// Reaps the child if it has ended, without waiting. `lost`: the child is gone
// but somebody else reaped it (a host calling waitpid(-1)), and `out` says
// exit code 255.
exit_state collect_exit(const process_handle& child, process_exit& out) noexcept;
// Waits for the child to end and reaps it: never `running`.
exit_state await_exit(const process_handle& child, process_exit& out) noexcept;
// Reaps a child that has exited or is about to; only for cleanup paths.
void reap_now(const process_handle& child) noexcept;
// Signals an unreaped child: through its pidfd (which cannot reach a recycled
// pid), else, or if the kernel refuses that call, by pid, which is as safe
// while the child is unreaped: its pid cannot be reused before we reap it.
void signal_process(const process_handle& child, int signal) noexcept;
void signal_group(pid_t group, int signal) noexcept;
inline constexpr std::size_t huge_page = 2 * 1024 * 1024;
// Advice for memory the capture fills: huge pages where the range spans them,
// and every page faulted in at once (ignored by kernels that cannot).
// Huge pages are asked for only while the kernel has that many free: with
// the usual `defrag` setting a fault in an advised range that finds none
// compacts memory first, which made a capture several times slower than
// plain pages on a machine whose memory had just been churned.
void advise_huge_pages(void* data, std::size_t size) noexcept;
// How many free blocks of 2 MiB /proc/buddyinfo's text lists (with 4 KiB
// pages, order 9 and above, summed over zones); 0 for text it cannot read.
// (Linux only.)
std::size_t free_huge_pages(const char* buddyinfo, std::size_t length) noexcept;
void prefault(void* data, std::size_t size) noexcept;
// Memory aligned to `alignment` (a power of two that divides `size`), for
// the capture's huge-page blocks; nullptr when there is none.
void* allocate_aligned(std::size_t alignment, std::size_t size) noexcept;
void free_aligned(void* data) noexcept;

// Functions fork() calls in the forking thread before it forks, and after
// it in parent and child (pthread_atfork); a system without fork has none.
void call_around_fork(void (*before)(), void (*in_parent)(), void (*in_child)()) noexcept;
// Set by a thread around a fork() whose child only execs (or exits) and never
// touches ductile's state: the functions above are then not called. A
// forking thread may hold locks they take.
bool& forking_only_to_exec() noexcept;
struct forking_to_exec {
  forking_to_exec() noexcept { forking_only_to_exec() = true; }
  ~forking_to_exec() { forking_only_to_exec() = false; }
  forking_to_exec(const forking_to_exec&) = delete;
  forking_to_exec& operator=(const forking_to_exec&) = delete;
};

// The signals an interrupt_guard catches (a console control handler on
// Windows). The handler runs in signal context: it may only record.
using signal_handler = void (*)(int signal);
// Whether `signal` can be caught here (SIGKILL and SIGSTOP never can).
bool can_catch(int signal) noexcept;
// Installs `handler` for `signal` and keeps the disposition it replaces,
// which restore_signal() puts back.
std::error_code catch_signal(int signal, signal_handler handler) noexcept;
void restore_signal(int signal) noexcept;

// Unblocks SIGCHLD on the calling thread. The kernel drops a SIGCHLD nobody
// handles only if the thread that started the child does not block it;
// blocked there, it wakes another thread of the process for every exit.
void accept_child_signals() noexcept;

// Blocks every signal the C library lets a thread block, for as long as it
// lives: a thread made meanwhile inherits the mask.
class thread_signals_blocked {
 public:
  thread_signals_blocked() noexcept;
  ~thread_signals_blocked();
  thread_signals_blocked(const thread_signals_blocked&) = delete;
  thread_signals_blocked& operator=(const thread_signals_blocked&) = delete;

 private:
#ifndef _WIN32
  sigset_t previous_;
#endif
};

// --- the fault seam, for tests
// `pidfd_flag`: a non-zero answer makes the clone behave as on a kernel that
// ignores CLONE_PIDFD (before 5.2): it succeeds and leaves no pidfd.
// `cgroup_kill`: one makes a cgroup be killed as on a kernel without
// cgroup.kill (before 5.14).
enum class call : unsigned char {
  pipe,
  open,
  duplicate,
  read,
  write,
  poll,
  event,
  waitid,
  clone,
  exec,
  thread,
  pidfd_flag,
  cgroup_kill
};
// Asked before each call is made; a non-zero result is the errno the call then
// fails with, without being made. Runs on any thread, and for `exec` in the
// child between clone and exec, so it must be async-signal-safe.
using fault_injector = int (*)(call) noexcept;
void set_fault_injector(fault_injector injector) noexcept;
DUCTILE_HIDDEN int injected_fault(call which) noexcept;

}  // namespace ductile::detail::sys
