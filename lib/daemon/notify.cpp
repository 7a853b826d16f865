// systemd's notify protocol and socket activation without libsystemd: the
// rules of sd_notify(3), sd_watchdog_enabled(3) and sd_listen_fds(3).
#ifndef _WIN32
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <ductile/daemon.hpp>
#include <system_error>

#include "daemon/state.hpp"

namespace ductile::daemon {
namespace detail {

// A whole decimal number and nothing else; false for anything else.
DUCTILE_INLINE bool parse_decimal(const char* text, unsigned long long& out) {
  if (text == nullptr || *text < '0' || *text > '9') return false;
  errno = 0;
  char* end = nullptr;
  out = std::strtoull(text, &end, 10);
  return errno == 0 && *end == '\0';
}

DUCTILE_INLINE bool names_this_process(const char* pid_text) {
  unsigned long long pid = 0;
  return parse_decimal(pid_text, pid) && pid == static_cast<unsigned long long>(::getpid());
}

DUCTILE_INLINE const std::string& notify_socket() {
  static const std::string socket = [] {
    const char* value = std::getenv("NOTIFY_SOCKET");
    std::string found = value != nullptr ? value : "";
    if (value != nullptr) ::unsetenv("NOTIFY_SOCKET");
    return found;
  }();
  return socket;
}

DUCTILE_INLINE void notify(const std::string& state) {
  const std::string& path = notify_socket();
  if (path.empty()) return;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  // "@name" is Linux's abstract namespace: a leading NUL, and no NUL at the end.
  if ((path[0] != '/' && path[0] != '@') || path.size() >= sizeof address.sun_path)
    throw std::system_error(EAFNOSUPPORT, std::generic_category(), "NOTIFY_SOCKET=" + path);
  std::memcpy(address.sun_path, path.data(), path.size());
  socklen_t length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());
  if (path[0] == '@')
    address.sun_path[0] = '\0';
  else
    ++length;
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "socket for NOTIFY_SOCKET");
  ssize_t sent;
  do sent = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&address), length);
  while (sent < 0 && errno == EINTR);
  const int error = errno;
  ::close(fd);
  if (sent < 0) throw std::system_error(error, std::generic_category(), "send " + state + " to " + path);
}

}  // namespace detail

DUCTILE_INLINE void stopping() { detail::notify("STOPPING=1"); }

DUCTILE_INLINE void watchdog() { detail::notify("WATCHDOG=1"); }

DUCTILE_INLINE std::optional<std::chrono::microseconds> watchdog_interval() {
  unsigned long long usec = 0;
  if (!detail::parse_decimal(std::getenv("WATCHDOG_USEC"), usec) || usec == 0) return std::nullopt;
  // Set for the main process only: a child that inherited it is not watched.
  const char* pid = std::getenv("WATCHDOG_PID");
  if (pid != nullptr && !detail::names_this_process(pid)) return std::nullopt;
  return std::chrono::microseconds(usec);
}

DUCTILE_INLINE std::vector<listen_fd> listen_fds() {
  static const std::vector<listen_fd> passed = [] {
    std::vector<listen_fd> found;
    unsigned long long count = 0;
    if (detail::names_this_process(std::getenv("LISTEN_PID")) &&
        detail::parse_decimal(std::getenv("LISTEN_FDS"), count) && count > 0 && count < 65536) {
      const char* names = std::getenv("LISTEN_FDNAMES");
      std::string rest = names != nullptr ? names : "";
      for (unsigned long long i = 0; i < count; ++i) {
        const int fd = 3 + static_cast<int>(i);
        const int flags = ::fcntl(fd, F_GETFD);
        if (flags >= 0) ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
        const auto colon = rest.find(':');
        std::string name = rest.substr(0, colon);
        rest = colon == std::string::npos ? std::string() : rest.substr(colon + 1);
        found.push_back(listen_fd{fd, name.empty() ? "unknown" : name});
      }
    }
    ::unsetenv("LISTEN_PID");
    ::unsetenv("LISTEN_FDS");
    ::unsetenv("LISTEN_FDNAMES");
    return found;
  }();
  return passed;
}

}  // namespace ductile::daemon
#endif  // _WIN32
