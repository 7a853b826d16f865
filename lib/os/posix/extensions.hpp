#pragma once
// The calls the POSIX backend needs beyond POSIX.1-2008. Every system it
// targets (macOS, the BSDs, Linux with glibc or musl) has them, but their
// headers show them only outside a strict POSIX compilation, so they are
// wrapped in extensions.cpp, the one file of the backend compiled without
// -D_POSIX_C_SOURCE=200809L.

#include <spawn.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <cstddef>

#include "common.hpp"

namespace ductile::detail::posix {

// wait4: waitpid with the child's resource usage (waitid has none). Returns
// the pid, 0 for a WNOHANG child still running, -1 with errno. ru_maxrss is
// made KiB everywhere (macOS counts bytes).
pid_t wait_for_child(pid_t pid, int& status, int options, rusage* usage) noexcept;
// WCOREDUMP, an XSI extension.
bool dumped_core(int status) noexcept;
// setgroups, for a forked child about to change user: async-signal-safe there.
DUCTILE_HIDDEN int set_groups(std::size_t count, const gid_t* groups) noexcept;
// flock(LOCK_EX | LOCK_NB): the lock a pid file holds, which other programs
// test with flock; a fcntl record lock would be invisible to them.
DUCTILE_HIDDEN int lock_whole_file(int fd) noexcept;

// A forked child asks for SIGKILL when its parent dies (Linux's
// PR_SET_PDEATHSIG); -1 with errno ENOSYS where there is no such thing.
// Async-signal-safe.
DUCTILE_HIDDEN int kill_me_with_parent() noexcept;

// ioctl(TIOCSCTTY) for a session leader: the terminal becomes its controlling
// terminal. Async-signal-safe.
DUCTILE_HIDDEN int take_controlling_terminal(int fd) noexcept;

// posix_spawn_file_actions_addchdir_np (glibc 2.29, macOS 10.15, FreeBSD
// 13.1): lets posix_spawn start a child in another directory, which
// otherwise takes a fork. ENOSYS where the C library lacks it.
int spawn_action_chdir(posix_spawn_file_actions_t* actions, const char* dir) noexcept;

}  // namespace ductile::detail::posix
