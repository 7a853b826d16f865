// The running program becomes a daemon: the launcher forks, the child starts
// a session and forks again, and the grandchild sets itself up (umask,
// directory, user, logs, pid file, descriptors). Every step's failure goes
// back to the launcher through a pipe, which it prints before exiting 1; its
// exit 0 waits for ready(). Under systemd the same set-up runs in place.
#ifndef _WIN32
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ductile/daemon.hpp>
#include <stdexcept>
#include <system_error>

#include "daemon/state.hpp"

namespace ductile::daemon {
namespace detail {

DUCTILE_INLINE int& launcher_report() noexcept {
  static int fd = -1;
  return fd;
}

// One step of the set-up failed: what, and the system's reason.
class setup_failure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

DUCTILE_INLINE std::string reason(int error) { return std::strerror(error); }

DUCTILE_INLINE void write_all(int fd, const std::string& text) noexcept {
  for (std::size_t done = 0; done < text.size();) {
    const ssize_t wrote = ::write(fd, text.data() + done, text.size() - done);
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote <= 0) return;
    done += static_cast<std::size_t>(wrote);
  }
}

struct account {
  uid_t uid;
  gid_t gid;
  std::string name;
};

DUCTILE_INLINE account find_user(const std::string& name) {
  std::vector<char> buffer(16384);
  passwd entry{};
  passwd* found = nullptr;
  int status;
  while ((status = ::getpwnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found)) == ERANGE)
    buffer.resize(buffer.size() * 2);
  if (found == nullptr) throw setup_failure("unknown user '" + name + "'");
  return {entry.pw_uid, entry.pw_gid, entry.pw_name};
}

DUCTILE_INLINE gid_t find_group(const std::string& name) {
  std::vector<char> buffer(16384);
  group entry{};
  group* found = nullptr;
  while (::getgrnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found) == ERANGE)
    buffer.resize(buffer.size() * 2);
  if (found == nullptr) throw setup_failure("unknown group '" + name + "'");
  return entry.gr_gid;
}

DUCTILE_INLINE std::string parent_directory(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

DUCTILE_INLINE void switch_identity(const options& o) {
  if (o.user.empty() && o.group.empty()) return;
  std::optional<account> user;
  if (!o.user.empty()) user = find_user(o.user);
  const gid_t gid = !o.group.empty() ? find_group(o.group) : user->gid;
  // Group first: once the uid has changed, the gid may no longer be.
  const int groups = user ? ::initgroups(user->name.c_str(), gid) : ::setgroups(1, &gid);
  if (groups != 0 || ::setgid(gid) != 0)
    throw setup_failure("cannot switch to group " + std::to_string(gid) + ": " + reason(errno));
  if (user && ::setuid(user->uid) != 0) throw setup_failure("cannot switch to user '" + o.user + "': " + reason(errno));
}

DUCTILE_INLINE int open_log(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) throw setup_failure("cannot open log " + path + ": " + reason(errno));
  return fd;
}

// The pid file's path, for the exit handler that removes it.
DUCTILE_INLINE std::string& pid_file_path() {
  static std::string path;
  return path;
}
DUCTILE_INLINE pid_t& pid_file_owner() noexcept {
  static pid_t owner = 0;
  return owner;
}

// Created, locked (flock: held by the open file, so a child that inherits it
// by fork holds it too) and written; the descriptor stays open for the lock.
DUCTILE_INLINE int lock_pid_file(const std::string& path) {
  // Never through a symbolic link, and only a regular file: in a directory
  // others can write to, a link planted at the pid file's name would have a
  // daemon running as root truncate whatever it points to.
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0 && errno == ELOOP) throw setup_failure("pid file " + path + " is a symbolic link");
  if (fd < 0 && errno == EISDIR) throw setup_failure("pid file " + path + " is not a regular file");
  if (fd < 0) throw setup_failure("cannot open pid file " + path + ": " + reason(errno));
  struct stat opened {};
  if (::fstat(fd, &opened) != 0 || !S_ISREG(opened.st_mode)) {
    ::close(fd);
    throw setup_failure("pid file " + path + " is not a regular file");
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    char text[32] = {};
    const ssize_t got = ::pread(fd, text, sizeof text - 1, 0);
    ::close(fd);
    if (error != EWOULDBLOCK) throw setup_failure("cannot lock pid file " + path + ": " + reason(error));
    std::string holder = got > 0 ? std::string(text, static_cast<std::size_t>(got)) : "";
    holder.erase(std::remove(holder.begin(), holder.end(), '\n'), holder.end());
    throw setup_failure("pid file " + path + " is locked: already running" +
                        (holder.empty() ? std::string() : " as process " + holder));
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    const int error = errno;
    ::close(fd);
    throw setup_failure("cannot write pid file " + path + ": " + reason(error));
  }
  pid_file_path() = path;
  pid_file_owner() = ::getpid();
  std::atexit([] {
    if (pid_file_owner() == ::getpid()) ::unlink(pid_file_path().c_str());
  });
  return fd;
}

DUCTILE_INLINE void move_onto(int fd, int target) {
  if (fd == target) return;
  if (::dup2(fd, target) < 0) throw setup_failure("dup2: " + reason(errno));
}

// Every descriptor above 2 but those in `keep`.
DUCTILE_INLINE void close_others(const std::vector<int>& keep) {
  std::vector<int> open;
  if (DIR* listing = ::opendir("/proc/self/fd")) {
    const int own = ::dirfd(listing);
    while (const dirent* entry = ::readdir(listing)) {
      const int fd = std::atoi(entry->d_name);
      if (fd > 2 && fd != own) open.push_back(fd);
    }
    ::closedir(listing);
  } else {
    const long limit = std::min<long>(::sysconf(_SC_OPEN_MAX), 65536);
    for (int fd = 3; fd < limit; ++fd) open.push_back(fd);
  }
  for (const int fd : open)
    if (std::find(keep.begin(), keep.end(), fd) == keep.end()) ::close(fd);
}

// Everything but the forks, in the order the options promise.
DUCTILE_INLINE void set_up(const options& o, bool under_systemd) {
  if (o.umask) ::umask(*o.umask);
  if (!o.pid_file.empty()) {
    struct stat directory {};
    const std::string parent = parent_directory(o.pid_file);
    if (::stat(parent.c_str(), &directory) != 0 || !S_ISDIR(directory.st_mode))
      throw setup_failure("pid file directory " + parent + " does not exist");
  }
  if (!o.directory.empty() && ::chdir(o.directory.c_str()) != 0)
    throw setup_failure("cannot change directory to " + o.directory + ": " + reason(errno));
  switch_identity(o);
  const bool quiet = !under_systemd;
  const int out = !o.stdout_path.empty() ? open_log(o.stdout_path) : -1;
  const int err = !o.stderr_path.empty() ? open_log(o.stderr_path) : -1;
  const int pid_file = !o.pid_file.empty() ? lock_pid_file(o.pid_file) : -1;
  const int null = quiet ? ::open("/dev/null", O_RDWR | O_CLOEXEC) : -1;
  if (quiet && null < 0) throw setup_failure("cannot open /dev/null: " + reason(errno));
  std::fflush(nullptr);
  if (quiet) move_onto(null, 0);
  if (out >= 0 || quiet) move_onto(out >= 0 ? out : null, 1);
  if (err >= 0 || quiet) move_onto(err >= 0 ? err : null, 2);
  for (const int fd : {out, err, null})
    if (fd > 2) ::close(fd);
  if (under_systemd) return;
  std::vector<int> keep = o.keep_fds;
  keep.insert(keep.end(), signal_loop_fds().begin(), signal_loop_fds().end());
  keep.push_back(launcher_report());
  keep.push_back(pid_file);
  close_others(keep);
}

// The launcher's side: the daemon's first word decides its exit code.
[[noreturn]] DUCTILE_INLINE void await_daemon(int report, pid_t session_leader) {
  int status = 0;
  while (::waitpid(session_leader, &status, 0) < 0 && errno == EINTR) {
  }
  std::string said;
  char buffer[1024];
  for (;;) {
    const ssize_t got = ::read(report, buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    said.append(buffer, static_cast<std::size_t>(got));
  }
  if (!said.empty() && said[0] == 'R') std::_Exit(0);
  const std::string why = !said.empty() ? said.substr(1) : "the daemon exited before it was ready";
  write_all(2, "ductile::daemon: " + why + "\n");
  std::_Exit(1);
}

}  // namespace detail

DUCTILE_INLINE void become(const options& o) {
  if (!detail::notify_socket().empty()) {
    try {
      detail::set_up(o, true);
    } catch (const detail::setup_failure& failure) {
      throw std::runtime_error(std::string("ductile::daemon: ") + failure.what());
    }
    return;
  }
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "daemon: pipe");
  // What the program buffered is written once, not once per process.
  std::fflush(nullptr);
  const pid_t leader = ::fork();
  if (leader < 0) {
    const int error = errno;
    ::close(ends[0]);
    ::close(ends[1]);
    throw std::system_error(error, std::generic_category(), "daemon: fork");
  }
  if (leader > 0) {
    ::close(ends[1]);
    detail::await_daemon(ends[0], leader);
  }
  ::close(ends[0]);
  // A session of its own, then a fork so that the daemon, not being a session
  // leader, never gets a controlling terminal by opening one.
  ::setsid();
  const pid_t daemon = ::fork();
  if (daemon < 0) {
    detail::write_all(ends[1], "Efork: " + detail::reason(errno));
    std::_Exit(1);
  }
  if (daemon > 0) std::_Exit(0);
  detail::launcher_report() = ends[1];
  try {
    detail::set_up(o, false);
  } catch (const std::exception& failure) {
    detail::write_all(ends[1], std::string("E") + failure.what());
    std::_Exit(1);
  }
}

DUCTILE_INLINE void ready() {
  static bool said = false;
  if (said) return;
  said = true;
  int& report = detail::launcher_report();
  if (report >= 0) {
    detail::write_all(report, "R");
    ::close(report);
    report = -1;
  }
  detail::notify("READY=1");
}

}  // namespace ductile::daemon
#endif  // _WIN32
