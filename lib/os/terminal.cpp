// POSIX systems only: Windows has lib/os/windows/.
#ifndef _WIN32
#include "os/terminal.hpp"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>

#include "os/system_calls.hpp"

namespace ductile::detail::sys {

// The slave's name: ptsname_r where there is one, else ptsname, whose static
// buffer a lock protects from our own other threads.
DUCTILE_INLINE int slave_name(int master, char* buffer, std::size_t size) noexcept {
#if defined(__linux__)
  return ::ptsname_r(master, buffer, size);
#else
  static std::mutex lock;
  std::lock_guard<std::mutex> guard(lock);
  const char* name = ::ptsname(master);
  if (name == nullptr) return errno;
  std::size_t n = 0;
  for (; name[n] != '\0' && n + 1 < size; ++n) buffer[n] = name[n];
  buffer[n] = '\0';
  return name[n] == '\0' ? 0 : ERANGE;
#endif
}

DUCTILE_INLINE std::error_code open_terminal(window_size size, unique_fd& master, unique_fd& slave) noexcept {
  const auto failed = [] { return std::error_code(errno, std::generic_category()); };
  const int opened = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (opened < 0) return failed();
  unique_fd made(keep_above_stdio(opened));
  if (!made) return failed();
  // Where posix_openpt ignores O_CLOEXEC, the window before this is only
  // reachable by a fork that ductile does not make.
  ::fcntl(made.get(), F_SETFD, FD_CLOEXEC);
  if (::grantpt(made.get()) != 0 || ::unlockpt(made.get()) != 0) return failed();
  char name[128];
  if (const int error = slave_name(made.get(), name, sizeof name))
    return std::error_code(error, std::generic_category());
  unique_fd end;
  if (const auto error = open_file(name, O_RDWR | O_NOCTTY, end)) return error;
  if (const auto error = set_window_size(made.get(), size)) return error;
  if (const auto error = set_nonblocking(made.get())) return error;
  master = std::move(made);
  slave = std::move(end);
  return {};
}

DUCTILE_INLINE std::error_code set_window_size(int master, window_size size) noexcept {
  winsize window{};
  window.ws_row = size.rows;
  window.ws_col = size.cols;
  if (::ioctl(master, TIOCSWINSZ, &window) != 0) return std::error_code(errno, std::generic_category());
  return {};
}

DUCTILE_INLINE std::error_code terminal_input_mode(int master, input_mode& mode) noexcept {
  termios settings{};
  if (::tcgetattr(master, &settings) != 0) return std::error_code(errno, std::generic_category());
  mode.canonical = (settings.c_lflag & ICANON) != 0;
  const cc_t eof = settings.c_cc[VEOF];
  // A disabled end-of-file character: ^D, what a person would type.
  mode.end_of_file = eof == _POSIX_VDISABLE || eof == 0 ? '\x04' : static_cast<char>(eof);
  return {};
}

DUCTILE_INLINE window_size parent_window_size() noexcept {
  for (const int fd : {0, 1, 2}) {
    winsize window{};
    if (::isatty(fd) && ::ioctl(fd, TIOCGWINSZ, &window) == 0 && window.ws_row > 0 && window.ws_col > 0)
      return window_size{window.ws_row, window.ws_col};
  }
  return window_size{24, 80};
}

}  // namespace ductile::detail::sys
#endif  // _WIN32
