// POSIX systems only: Windows has lib/os/windows/.
#ifndef _WIN32
#include "os/helper_process.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "common.hpp"

extern char** environ;

namespace ductile::detail::sys {

namespace helper {

// The file actions and attributes of one posix_spawn, released with it.
struct spawn_setup {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  int failed = 0;
  spawn_setup() noexcept {
    failed = ::posix_spawn_file_actions_init(&actions);
    if (failed == 0) failed = ::posix_spawnattr_init(&attributes);
  }
  ~spawn_setup() {
    ::posix_spawn_file_actions_destroy(&actions);
    ::posix_spawnattr_destroy(&attributes);
  }
  spawn_setup(const spawn_setup&) = delete;
  spawn_setup& operator=(const spawn_setup&) = delete;
};

}  // namespace helper

namespace helper {

// Spawns argv with `stdin_fd` (or /dev/null) as its stdin and `output_fd`
// (or /dev/null) as its stdout and stderr; nothing else crosses.
DUCTILE_INLINE std::error_code spawn(const std::vector<const char*>& argv, int stdin_fd, pid_t& pid,
                                     int output_fd = -1) noexcept {
  if (argv.empty() || argv.back() != nullptr) return std::make_error_code(std::errc::invalid_argument);
  spawn_setup setup;
  int rc = setup.failed;
  if (rc == 0)
    rc = stdin_fd >= 0 ? ::posix_spawn_file_actions_adddup2(&setup.actions, stdin_fd, 0)
                       : ::posix_spawn_file_actions_addopen(&setup.actions, 0, "/dev/null", O_RDONLY, 0);
  if (rc == 0)
    rc = output_fd >= 0 ? ::posix_spawn_file_actions_adddup2(&setup.actions, output_fd, 1)
                        : ::posix_spawn_file_actions_addopen(&setup.actions, 1, "/dev/null", O_WRONLY, 0);
  if (rc == 0) rc = ::posix_spawn_file_actions_adddup2(&setup.actions, 1, 2);
    // Nothing else crosses: descriptors the program left inheritable stay here.
#if defined(__APPLE__)
  if (rc == 0) rc = ::posix_spawnattr_setflags(&setup.attributes, POSIX_SPAWN_CLOEXEC_DEFAULT);
#elif defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
  if (rc == 0) rc = ::posix_spawn_file_actions_addclosefrom_np(&setup.actions, 3);
#elif defined(__FreeBSD__)
  if (rc == 0) rc = ::posix_spawn_file_actions_addclosefrom_np(&setup.actions, 3);
#endif
  if (rc != 0) return std::error_code(rc, std::generic_category());
  rc = ::posix_spawnp(&pid, argv[0], &setup.actions, &setup.attributes, const_cast<char* const*>(argv.data()), environ);
  if (rc != 0) return std::error_code(rc, std::generic_category());
  return {};
}

DUCTILE_INLINE int wait_for(pid_t pid) noexcept {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace helper

DUCTILE_INLINE std::error_code run_helper(const std::vector<const char*>& argv) noexcept {
  pid_t pid = -1;
  if (const auto error = helper::spawn(argv, -1, pid)) return error;
  (void)helper::wait_for(pid);
  return {};
}

DUCTILE_INLINE std::error_code run_helper_with_input(const std::vector<const char*>& argv, std::string_view input,
                                                     int& exit_code) noexcept {
  int ends[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM, 0, ends) != 0) return std::error_code(errno, std::generic_category());
  for (const int end : ends) ::fcntl(end, F_SETFD, FD_CLOEXEC);
#if !defined(MSG_NOSIGNAL) && defined(SO_NOSIGPIPE)
  const int on = 1;
  ::setsockopt(ends[0], SOL_SOCKET, SO_NOSIGPIPE, &on, sizeof on);
#endif
  pid_t pid = -1;
  const auto error = helper::spawn(argv, ends[1], pid);
  ::close(ends[1]);
  if (error) {
    ::close(ends[0]);
    return error;
  }
  while (!input.empty()) {
#if defined(MSG_NOSIGNAL)
    const ssize_t sent = ::send(ends[0], input.data(), input.size(), MSG_NOSIGNAL);
#else
    const ssize_t sent = ::send(ends[0], input.data(), input.size(), 0);
#endif
    if (sent < 0 && errno == EINTR) continue;
    if (sent <= 0) break;  // it stopped reading: its exit code says why
    input.remove_prefix(static_cast<std::size_t>(sent));
  }
  ::shutdown(ends[0], SHUT_WR);
  ::close(ends[0]);
  exit_code = helper::wait_for(pid);
  return {};
}

DUCTILE_INLINE std::error_code run_helper_for_output(const std::vector<const char*>& argv, std::string& printed,
                                                     int& exit_code) noexcept {
  printed.clear();
  exit_code = -1;
  int ends[2];
  if (::pipe(ends) != 0) return std::error_code(errno, std::generic_category());
  for (const int end : ends) ::fcntl(end, F_SETFD, FD_CLOEXEC);
  pid_t pid = -1;
  const auto error = helper::spawn(argv, -1, pid, ends[1]);
  ::close(ends[1]);
  if (error) {
    ::close(ends[0]);
    return error;
  }
  char buffer[4096];
  for (;;) {
    const ssize_t got = ::read(ends[0], buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    try {
      if (printed.size() < (1u << 20)) printed.append(buffer, static_cast<std::size_t>(got));
    } catch (...) {
      // Out of memory: what was read so far is what it printed.
    }
  }
  ::close(ends[0]);
  exit_code = helper::wait_for(pid);
  return {};
}

DUCTILE_INLINE void remove_flat_directory(const std::string& path) noexcept {
  if (DIR* dir = ::opendir(path.c_str())) {
    const int fd = ::dirfd(dir);
    while (const dirent* entry = ::readdir(dir)) {
      const char* name = entry->d_name;
      if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'))) continue;
      ::unlinkat(fd, name, 0);
    }
    ::closedir(dir);
  }
  ::rmdir(path.c_str());
}

}  // namespace ductile::detail::sys
#endif  // _WIN32
