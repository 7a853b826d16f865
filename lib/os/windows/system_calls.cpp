// The system-call layer on Windows, as far as the portable core needs it to
// build and to lower expressions: descriptors are the C runtime's, opened
// binary and uninheritable. Starting, waiting for and signalling children,
// events and the wait for readiness are not there yet: they report "not
// supported on this system" (sys::not_supported()).

#include "common.hpp"

#if DUCTILE_WINDOWS_BACKEND
#include <fcntl.h>
#include <io.h>
#include <malloc.h>
#include <sys/stat.h>

#include <cerrno>
#include <filesystem>
#include <system_error>

#include "os/system_calls.hpp"

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

DUCTILE_INLINE std::error_code open_file(const char* path, int flags, unique_fd& out) noexcept {
  if (const int fault = injected_fault(call::open)) return std::error_code(fault, std::generic_category());
  const int fd = ::_open(path, flags | private_binary, _S_IREAD | _S_IWRITE);
  if (fd < 0) return last_error();
  out.reset(fd);
  return {};
}

DUCTILE_INLINE std::error_code make_private_directory(std::string&) noexcept { return not_supported(); }

DUCTILE_INLINE std::error_code duplicate(int fd, unique_fd& out) noexcept {
  if (const int fault = injected_fault(call::duplicate)) return std::error_code(fault, std::generic_category());
  const int copy = ::_dup(fd);
  if (copy < 0) return last_error();
  out.reset(copy);
  return {};
}

DUCTILE_INLINE std::error_code duplicate_native(native_handle_type, unique_fd&) noexcept { return not_supported(); }

DUCTILE_INLINE native_handle_type native_handle_of(int fd) noexcept {
  return reinterpret_cast<native_handle_type>(::_get_osfhandle(fd));
}

DUCTILE_INLINE std::error_code set_nonblocking(int) noexcept { return not_supported(); }

DUCTILE_INLINE bool is_regular_file(int fd) noexcept {
  struct _stat64 info {};
  return ::_fstat64(fd, &info) == 0 && (info.st_mode & _S_IFMT) == _S_IFREG;
}

DUCTILE_INLINE bool is_executable_file(const char*) noexcept { return false; }

DUCTILE_INLINE void resize_pipe(int, std::size_t) noexcept {}

DUCTILE_INLINE std::error_code read_some(int fd, char* buffer, std::size_t size, std::size_t& done) noexcept {
  if (const int fault = injected_fault(call::read)) return std::error_code(fault, std::generic_category());
  const int chunk = size > (1u << 30) ? (1 << 30) : static_cast<int>(size);
  const int got = ::_read(fd, buffer, static_cast<unsigned>(chunk));
  if (got < 0) return last_error();
  done = static_cast<std::size_t>(got);
  return {};
}

DUCTILE_INLINE std::error_code write_some(int fd, const char* data, std::size_t size, std::size_t& done) noexcept {
  if (const int fault = injected_fault(call::write)) return std::error_code(fault, std::generic_category());
  const int chunk = size > (1u << 30) ? (1 << 30) : static_cast<int>(size);
  const int written = ::_write(fd, data, static_cast<unsigned>(chunk));
  if (written < 0) return last_error();
  done = static_cast<std::size_t>(written);
  return {};
}

DUCTILE_INLINE std::error_code poll_fds(os::polled_stream*, std::size_t, std::chrono::nanoseconds,
                                        int& ready) noexcept {
  ready = 0;
  return not_supported();
}

DUCTILE_INLINE std::error_code make_event(unsigned int, event&) noexcept { return not_supported(); }
DUCTILE_INLINE void signal_event(const event&) noexcept {}
DUCTILE_INLINE void drain_event(const event&) noexcept {}

// No child is ever started here, so none is waited for: a child handed in
// is reported gone.
DUCTILE_INLINE exit_state collect_exit(const process_handle&, process_exit& out) noexcept {
  out = process_exit{};
  out.status = exit_status::exited(255);
  return exit_state::lost;
}
DUCTILE_INLINE exit_state await_exit(const process_handle& child, process_exit& out) noexcept {
  return collect_exit(child, out);
}
DUCTILE_INLINE void reap_now(const process_handle&) noexcept {}
DUCTILE_INLINE void signal_process(const process_handle&, int) noexcept {}
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
DUCTILE_INLINE std::error_code catch_signal(int, signal_handler) noexcept { return not_supported(); }
DUCTILE_INLINE void restore_signal(int) noexcept {}

DUCTILE_INLINE void accept_child_signals() noexcept {}
DUCTILE_INLINE thread_signals_blocked::thread_signals_blocked() noexcept = default;
DUCTILE_INLINE thread_signals_blocked::~thread_signals_blocked() = default;

}  // namespace ductile::detail::sys
#endif  // DUCTILE_WINDOWS_BACKEND
