#pragma once
/// \file
/// The running program as a daemon: become() detaches it the classic way
/// (two forks, a new session, a locked pid file, logs) with a pipe back to
/// the process that launched it, so a failure on the way is printed there and
/// `myapp start && echo up` says "up" only once the daemon is ready. Under
/// systemd (NOTIFY_SOCKET set) it does not fork, and ready(), stopping() and
/// watchdog() speak systemd's notify protocol. signals is a signal loop
/// without handlers. Standard library and libc only; Linux and POSIX.

#ifndef _WIN32
#include <sys/types.h>

#include <chrono>
#include <csignal>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "native.hpp"

namespace ductile::daemon {

struct options {
  /// Created and locked after the switch to `user`/`group`, for the daemon's
  /// life; removed when the daemon exits cleanly. Empty: none.
  std::string pid_file;
  /// The daemon's working directory.
  std::string directory = "/";
  std::optional<mode_t> umask = 027;
  /// Switched to (group first, with the user's supplementary groups) after the
  /// pid file's directory is checked. Empty: the launcher's.
  std::string user, group;
  /// Opened for appending (created 0640 less the umask). Empty: /dev/null,
  /// or under systemd the stream it gave.
  std::string stdout_path, stderr_path;
  /// Descriptors above 2 that stay open in the daemon besides the pid file's
  /// and those of the live daemon::signals loops; every other one is closed
  /// (not under systemd, whose descriptors are chosen already).
  std::vector<int> keep_fds;
};

/// Returns in the daemon. The launching process never returns from it: it
/// exits 0 once the daemon calls ready(), or prints the daemon's error
/// ("ductile::daemon: <what failed>") to its stderr and exits 1. Call it
/// before starting threads, as daemon(3) must be. Throws std::system_error
/// only where the launcher itself fails (no pipe, no fork). Under systemd it
/// does not fork: it applies the options and returns, and errors throw.
void become(const options& = {});

/// Start-up succeeded: the launcher exits 0; under systemd, READY=1.
/// Idempotent; without become() and systemd it does nothing.
void ready();
/// systemd STOPPING=1 (a reload or shutdown has begun).
void stopping();
/// systemd WATCHDOG=1. Send it at least twice per watchdog_interval().
void watchdog();
/// The service's watchdog timeout (WATCHDOG_USEC), when systemd set one for
/// this process (WATCHDOG_PID, if set, names it); nothing otherwise.
std::optional<std::chrono::microseconds> watchdog_interval();

/// A socket systemd passed (socket activation): its descriptor and the name
/// from LISTEN_FDNAMES ("unknown" when unnamed). Converts to the descriptor.
struct listen_fd {
  int fd = -1;
  std::string name;
  operator int() const noexcept { return fd; }  // NOLINT: a descriptor, as sd_listen_fds gives it
};
/// The sockets passed to this process (LISTEN_FDS from 3 on, LISTEN_PID
/// naming this process), close-on-exec from then on. The variables are
/// removed from the environment, so children do not take the sockets for
/// theirs; later calls return the same list.
std::vector<listen_fd> listen_fds();

/// A blocking signal loop without handlers: the signals are blocked in the
/// calling thread and read from a signalfd (a handler writing to a pipe where
/// there is no signalfd). Create it before starting threads, so that every
/// thread inherits the mask; the previous mask and dispositions come back
/// when it is destroyed. Its signals are its own while it lives: an
/// interrupt_guard keeps the signals not in the set.
class signals {
 public:
  explicit signals(std::initializer_list<int> = {SIGTERM, SIGINT, SIGHUP});
  ~signals();
  signals(const signals&) = delete;
  signals& operator=(const signals&) = delete;

  /// The next signal, waiting as long as it takes.
  int wait();
  /// The next signal, or nothing after `limit`.
  std::optional<int> wait_for(std::chrono::milliseconds limit);
  /// Readable while a signal is pending, for an event loop (poll, Asio's
  /// posix::stream_descriptor); then wait_for(0ms) takes it.
  native_handle_type handle() const;

 private:
  struct state;
  state* state_;
};

}  // namespace ductile::daemon
#endif  // _WIN32
