// POSIX systems only: Windows has lib/os/windows/.
#ifndef _WIN32
#include "os/posix/extensions.hpp"

#include "common.hpp"

#if DUCTILE_POSIX_BACKEND

#include <errno.h>
#include <grp.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__linux__)
#include <signal.h>
#include <sys/prctl.h>
#endif

namespace ductile::detail::posix {

DUCTILE_INLINE pid_t wait_for_child(pid_t pid, int& status, int options, rusage* usage) noexcept {
  const pid_t got = ::wait4(pid, &status, options, usage);
#if defined(__APPLE__)
  if (got > 0 && usage != nullptr) usage->ru_maxrss /= 1024;
#endif
  return got;
}

DUCTILE_INLINE bool dumped_core(int status) noexcept {
#if defined(WCOREDUMP)
  return WCOREDUMP(status);
#else
  (void)status;
  return false;
#endif
}

DUCTILE_INLINE int set_groups(std::size_t count, const gid_t* groups) noexcept {
#if defined(__linux__)
  return ::setgroups(count, groups);
#else
  return ::setgroups(static_cast<int>(count), groups);
#endif
}

DUCTILE_INLINE int lock_whole_file(int fd) noexcept { return ::flock(fd, LOCK_EX | LOCK_NB); }

DUCTILE_INLINE int kill_me_with_parent() noexcept {
#if defined(__linux__)
  return ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
#else
  errno = ENOSYS;
  return -1;
#endif
}

DUCTILE_INLINE int take_controlling_terminal(int fd) noexcept { return ::ioctl(fd, TIOCSCTTY, 0); }

DUCTILE_INLINE int spawn_action_chdir(posix_spawn_file_actions_t* actions, const char* dir) noexcept {
#if (defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 29))) || defined(__APPLE__)
  return ::posix_spawn_file_actions_addchdir_np(actions, dir);
#else
  (void)actions;
  (void)dir;
  return ENOSYS;
#endif
}

}  // namespace ductile::detail::posix

#endif  // DUCTILE_POSIX_BACKEND
#endif  // _WIN32
