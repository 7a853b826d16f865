// The system-call layer on Windows. Descriptors are the C runtime's, opened
// binary and uninheritable; the parent's ends of the pipes a run reads and
// writes, events and children are served by the completion port
// (io_port.hpp), which also answers the waits.

#include "common.hpp"

#if DUCTILE_WINDOWS_BACKEND
#include <fcntl.h>
#include <io.h>
#include <malloc.h>
#include <sys/stat.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <filesystem>
#include <system_error>
#include <vector>

#include "os/readiness.hpp"
#include "os/system_calls.hpp"
#include "os/windows/io_port.hpp"
#include "os/windows/private_objects.hpp"
#include "os/windows/win32.hpp"

namespace ductile::detail::sys {

// _O_NOINHERIT keeps the handle beneath a descriptor from leaking into any
// CreateProcess meanwhile; binary, so that bytes pass unchanged.
inline constexpr int private_binary = _O_BINARY | _O_NOINHERIT;

DUCTILE_INLINE std::error_code last_error() noexcept { return std::error_code(errno, std::generic_category()); }

DUCTILE_INLINE std::string working_directory() {
  std::error_code error;
  const auto here = std::filesystem::current_path(error);
  return error ? std::string(".") : here.string();
}

DUCTILE_INLINE int keep_above_stdio(int fd) noexcept { return fd; }
DUCTILE_INLINE int move_descriptor_up(int fd, int) noexcept { return fd; }
DUCTILE_INLINE int keep_clear_of_new_descriptors(int fd) noexcept { return fd; }

DUCTILE_INLINE std::error_code make_pipe(pipe_ends& ends) noexcept {
  if (const int fault = injected_fault(call::pipe)) return std::error_code(fault, std::generic_category());
  int fds[2];
  if (::_pipe(fds, 64 * 1024, private_binary) != 0) return last_error();
  ends.read.reset(fds[0]);
  ends.write.reset(fds[1]);
  return {};
}

// Through CreateFileW: the path is UTF-8 (the C runtime's _open would read
// it in the ANSI code page), and a file opened to append is opened with
// FILE_APPEND_DATA alone, so that a child writing through the handle
// appends too (the C runtime's O_APPEND is its own seek before each write,
// which a child never makes).
DUCTILE_INLINE std::error_code open_file(const char* path, int flags, unique_fd& out) noexcept {
  if (const int fault = injected_fault(call::open)) return std::error_code(fault, std::generic_category());
  std::wstring wide;
  try {
    if (!windows::widen(path, wide)) return std::make_error_code(std::errc::illegal_byte_sequence);
  } catch (...) {
    return std::make_error_code(std::errc::not_enough_memory);
  }
  const int access_mode = flags & (_O_RDONLY | _O_WRONLY | _O_RDWR);
  DWORD access = access_mode == _O_RDONLY   ? GENERIC_READ
                 : access_mode == _O_WRONLY ? GENERIC_WRITE
                                            : GENERIC_READ | GENERIC_WRITE;
  if (flags & _O_APPEND) access = FILE_APPEND_DATA | SYNCHRONIZE | (access_mode == _O_RDWR ? GENERIC_READ : 0);
  DWORD disposition = OPEN_EXISTING;
  if ((flags & _O_CREAT) && (flags & _O_TRUNC))
    disposition = CREATE_ALWAYS;
  else if (flags & _O_CREAT)
    disposition = OPEN_ALWAYS;
  else if (flags & _O_TRUNC)
    disposition = TRUNCATE_EXISTING;
  HANDLE file = ::CreateFileW(wide.c_str(), access, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr,
                              disposition, FILE_ATTRIBUTE_NORMAL, nullptr);
  if (file == INVALID_HANDLE_VALUE) return windows::last_error();
  const int fd = ::_open_osfhandle(reinterpret_cast<intptr_t>(file), _O_BINARY | (flags & (_O_APPEND | _O_RDONLY)));
  if (fd < 0) {
    ::CloseHandle(file);
    return std::make_error_code(std::errc::too_many_files_open);
  }
  out.reset(fd);
  return {};
}

DUCTILE_INLINE std::error_code make_parent_pipe(pipe_ends& ends, bool parent_reads) noexcept {
  if (const int fault = injected_fault(call::pipe)) return std::error_code(fault, std::generic_category());
  return windows::make_parent_pipe(ends, parent_reads);
}

DUCTILE_INLINE std::error_code make_private_directory(std::string& path_template) noexcept {
  // As mkdtemp: XXXXXX becomes random letters until a directory of that name
  // can be made, and only this user may enter it.
  if (path_template.size() < 6) return std::make_error_code(std::errc::invalid_argument);
  SECURITY_ATTRIBUTES* const private_to_user = windows::owner_only();
  if (private_to_user == nullptr) return std::make_error_code(std::errc::permission_denied);
  for (int attempt = 0; attempt < 100; ++attempt) {
    if (!windows::fill_random_name(path_template, path_template.size() - 6, 6)) return windows::last_error();
    std::wstring wide;
    if (!windows::widen(path_template, wide)) return std::make_error_code(std::errc::illegal_byte_sequence);
    if (::CreateDirectoryW(wide.c_str(), private_to_user)) return {};
    if (::GetLastError() != ERROR_ALREADY_EXISTS) return windows::last_error();
  }
  return std::make_error_code(std::errc::file_exists);
}

DUCTILE_INLINE std::error_code duplicate(int fd, unique_fd& out) noexcept {
  if (const int fault = injected_fault(call::duplicate)) return std::error_code(fault, std::generic_category());
  const int copy = ::_dup(fd);
  if (copy < 0) return last_error();
  // A stream the port serves is served under its new number too.
  windows::alias(fd, copy);
  out.reset(copy);
  return {};
}

DUCTILE_INLINE std::error_code duplicate_native(native_handle_type stream, unique_fd& out) noexcept {
  HANDLE copy = nullptr;
  if (!::DuplicateHandle(::GetCurrentProcess(), stream, ::GetCurrentProcess(), &copy, 0, FALSE, DUPLICATE_SAME_ACCESS))
    return windows::last_error();
  const int fd = ::_open_osfhandle(reinterpret_cast<intptr_t>(copy), _O_BINARY);
  if (fd < 0) {
    ::CloseHandle(copy);
    return std::make_error_code(std::errc::too_many_files_open);
  }
  out.reset(fd);
  return {};
}

DUCTILE_INLINE native_handle_type native_handle_of(int fd) noexcept {
  if (fd >= windows::object_numbers) return windows::native_event(fd);
  return reinterpret_cast<native_handle_type>(::_get_osfhandle(fd));
}

DUCTILE_INLINE native_handle_type readable_event(int fd) noexcept { return windows::native_event(fd); }

DUCTILE_INLINE std::error_code set_nonblocking(int fd) noexcept {
  windows::set_nonblocking(fd);
  return {};
}

DUCTILE_INLINE bool is_regular_file(int fd) noexcept {
  struct _stat64 info {};
  return ::_fstat64(fd, &info) == 0 && (info.st_mode & _S_IFMT) == _S_IFREG;
}

// Windows runs any regular file it can open; whether it is a program is
// CreateProcessW's to say.
DUCTILE_INLINE bool is_executable_file(const char* path) noexcept {
  std::wstring wide;
  try {
    if (!windows::widen(path, wide)) return false;
  } catch (...) {
    return false;
  }
  const DWORD attributes = ::GetFileAttributesW(wide.c_str());
  return attributes != INVALID_FILE_ATTRIBUTES && !(attributes & FILE_ATTRIBUTE_DIRECTORY);
}

DUCTILE_INLINE void resize_pipe(int, std::size_t) noexcept {}

DUCTILE_INLINE std::error_code read_some(int fd, char* buffer, std::size_t size, std::size_t& done) noexcept {
  if (const int fault = injected_fault(call::read)) return std::error_code(fault, std::generic_category());
  if (windows::serves(fd)) return windows::read_stream(fd, buffer, size, done);
  const int chunk = size > (1u << 30) ? (1 << 30) : static_cast<int>(size);
  const int got = ::_read(fd, buffer, static_cast<unsigned>(chunk));
  if (got < 0) return last_error();
  done = static_cast<std::size_t>(got);
  return {};
}

DUCTILE_INLINE std::error_code write_some(int fd, const char* data, std::size_t size, std::size_t& done) noexcept {
  if (const int fault = injected_fault(call::write)) return std::error_code(fault, std::generic_category());
  if (windows::serves(fd)) return windows::write_stream(fd, data, size, done);
  const int chunk = size > (1u << 30) ? (1 << 30) : static_cast<int>(size);
  const int written = ::_write(fd, data, static_cast<unsigned>(chunk));
  if (written < 0) return last_error();
  done = static_cast<std::size_t>(written);
  return {};
}

DUCTILE_INLINE std::error_code poll_fds(os::polled_stream* fds, std::size_t count, std::chrono::nanoseconds timeout,
                                        int& ready) noexcept {
  ready = 0;
  if (const int fault = injected_fault(call::poll)) return std::error_code(fault, std::generic_category());
  try {
    static thread_local windows::waiter polling;
    std::vector<readiness> reports;
    for (std::size_t i = 0; i < count; ++i) {
      fds[i].revents = 0;
      if (fds[i].fd >= 0) windows::watch(fds[i].fd, fds[i].events, polling, static_cast<std::uint32_t>(i));
    }
    windows::wait(polling, timeout, reports);
    for (std::size_t i = 0; i < count; ++i)
      if (fds[i].fd >= 0) windows::forget(fds[i].fd, polling, static_cast<std::uint32_t>(i));
    // What was reported after the wait ended is seen by the next poll's watch.
    std::vector<readiness> late;
    windows::wait(polling, std::chrono::nanoseconds(0), late);
    reports.insert(reports.end(), late.begin(), late.end());
    for (const readiness& r : reports) {
      os::polled_stream& entry = fds[r.owner];
      if (entry.revents == 0) ++ready;
      entry.revents = static_cast<short>(entry.revents | r.events);
    }
    return {};
  } catch (const std::system_error& failure) {
    return failure.code();
  } catch (...) {
    return std::make_error_code(std::errc::not_enough_memory);
  }
}

DUCTILE_INLINE std::error_code make_event(unsigned int initial, event& out) noexcept {
  if (const int fault = injected_fault(call::event)) return std::error_code(fault, std::generic_category());
  int number = -1;
  if (const auto error = windows::make_event(initial != 0, number)) return error;
  out.readable.reset(number);
  out.writer.reset();
  return {};
}
DUCTILE_INLINE void signal_event(const event& target) noexcept { windows::set_event(target.readable.get(), true); }
DUCTILE_INLINE void drain_event(const event& target) noexcept { windows::set_event(target.readable.get(), false); }

// 100-nanosecond ticks to microseconds.
DUCTILE_INLINE std::chrono::microseconds from_ticks(const FILETIME& time) noexcept {
  const unsigned long long ticks = (static_cast<unsigned long long>(time.dwHighDateTime) << 32) | time.dwLowDateTime;
  return std::chrono::microseconds(ticks / 10);
}

DUCTILE_INLINE void account(HANDLE process, process_exit& out) noexcept {
  DWORD code = 0;
  ::GetExitCodeProcess(process, &code);
  out.status = exit_status::exited(code);
  FILETIME created, ended, kernel, user;
  if (::GetProcessTimes(process, &created, &ended, &kernel, &user)) {
    out.user_time = from_ticks(user);
    out.system_time = from_ticks(kernel);
  }
  PROCESS_MEMORY_COUNTERS memory{};
  memory.cb = sizeof memory;
  if (::K32GetProcessMemoryInfo(process, &memory, sizeof memory)) out.max_rss_kib = memory.PeakWorkingSetSize / 1024;
}

DUCTILE_INLINE exit_state collect_exit(const process_handle& child, process_exit& out) noexcept {
  out = process_exit{};
  HANDLE process = windows::process_of(child.pidfd.get());
  if (process == nullptr) {
    out.status = exit_status::exited(255);
    return exit_state::lost;
  }
  if (const int fault = injected_fault(call::waitid)) {
    (void)fault;
    return exit_state::running;
  }
  if (::WaitForSingleObject(process, 0) != WAIT_OBJECT_0) return exit_state::running;
  account(process, out);
  return exit_state::ended;
}

DUCTILE_INLINE exit_state await_exit(const process_handle& child, process_exit& out) noexcept {
  if (HANDLE process = windows::process_of(child.pidfd.get())) ::WaitForSingleObject(process, INFINITE);
  return collect_exit(child, out);
}

// The handles close with the child's number (unique_fd): nothing to reap.
DUCTILE_INLINE void reap_now(const process_handle&) noexcept {}

// SIGKILL and SIGTERM end the child's job: the child and every process it
// started. SIGINT and SIGBREAK are a console event for a child that leads
// its own console process group.
DUCTILE_INLINE void signal_process(const process_handle& child, int signal) noexcept {
  const int number = child.pidfd.get();
  switch (signal) {
    case SIGKILL:
    case SIGTERM: {
      HANDLE job = windows::job_of(number);
      if (job == nullptr || !::TerminateJobObject(job, 1))
        if (HANDLE process = windows::process_of(number)) ::TerminateProcess(process, 1);
      break;
    }
    // Windows delivers Ctrl-C to no process group but the whole console's
    // (a new group starts with Ctrl-C ignored): a child in a group of its
    // own gets SIGINT as Ctrl-Break, which ends a program by default alike.
    case SIGINT:
    case SIGBREAK: ::GenerateConsoleCtrlEvent(CTRL_BREAK_EVENT, static_cast<DWORD>(child.pid)); break;
    default: break;
  }
}

// A console process group is its leader's job here: signalled through it.
DUCTILE_INLINE void signal_group(pid_t, int) noexcept {}

DUCTILE_INLINE void advise_huge_pages(void*, std::size_t) noexcept {}
DUCTILE_INLINE void prefault(void*, std::size_t) noexcept {}

DUCTILE_INLINE void* allocate_aligned(std::size_t alignment, std::size_t size) noexcept {
  return ::_aligned_malloc(size, alignment);
}
DUCTILE_INLINE void free_aligned(void* data) noexcept { ::_aligned_free(data); }

// Windows has no fork.
DUCTILE_INLINE void call_around_fork(void (*)(), void (*)(), void (*)()) noexcept {}

DUCTILE_INLINE bool can_catch(int signal) noexcept {
  return signal == SIGINT || signal == SIGBREAK || signal == SIGTERM;
}
// One console control handler stands for every caught signal: Ctrl-C is
// SIGINT, Ctrl-Break SIGBREAK, closing the console SIGTERM.
DUCTILE_INLINE std::atomic<signal_handler>& console_handler(int signal) noexcept {
  static std::atomic<signal_handler> handlers[3] = {};
  return handlers[signal == SIGINT ? 0 : signal == SIGBREAK ? 1 : 2];
}

DUCTILE_INLINE BOOL WINAPI on_console_event(DWORD event) {
  const int signal = event == CTRL_C_EVENT ? SIGINT : event == CTRL_BREAK_EVENT ? SIGBREAK : SIGTERM;
  signal_handler handler = console_handler(signal).load();
  if (handler == nullptr) return FALSE;
  handler(signal);
  return TRUE;
}

DUCTILE_INLINE std::error_code catch_signal(int signal, signal_handler handler) noexcept {
  if (!can_catch(signal)) return std::make_error_code(std::errc::invalid_argument);
  static const bool installed = ::SetConsoleCtrlHandler(on_console_event, TRUE) != 0;
  if (!installed) return windows::last_error();
  console_handler(signal).store(handler);
  return {};
}
DUCTILE_INLINE void restore_signal(int signal) noexcept {
  if (can_catch(signal)) console_handler(signal).store(nullptr);
}

DUCTILE_INLINE void accept_child_signals() noexcept {}
DUCTILE_INLINE thread_signals_blocked::thread_signals_blocked() noexcept = default;
DUCTILE_INLINE thread_signals_blocked::~thread_signals_blocked() = default;

}  // namespace ductile::detail::sys
#endif  // DUCTILE_WINDOWS_BACKEND
