// A program that becomes a daemon with daemon::become(), as a service would:
//
//   daemon_app [--pid-file P] [--dir D] [--user U] [--group G] [--umask OCT]
//              [--stdout F] [--stderr F] [--keep-fd N] [--no-ready] [--report]
//
// After become() it prints "started <pid>" (to its log), then, unless
// --no-ready, calls ready() and serves signals: SIGHUP prints "reload",
// SIGTERM calls stopping() and exits 0 (the pid file goes with it). With
// --report it prints what systemd would see instead (see below) and exits.
//
//   --report: "pid <pid>", "child NOTIFY_SOCKET=<value or unset>",
//   "watchdog <usec or none>", "listen <fd>:<name>:<cloexec 0/1>" for each
//   passed socket, "listen env <LISTEN_FDS or unset>", "again <count>";
//   then ready(), watchdog(), stopping().
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ductile/daemon.hpp>
#include <ductile/ductile.hpp>
#include <string>

int main(int argc, char** argv) {
  ductile::daemon::options options;
  bool call_ready = true, report = false;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : "";
    if (flag == "--no-ready") {
      call_ready = false;
      continue;
    }
    if (flag == "--report") {
      report = true;
      continue;
    }
    ++i;
    if (flag == "--pid-file") options.pid_file = value;
    if (flag == "--dir") options.directory = value;
    if (flag == "--user") options.user = value;
    if (flag == "--group") options.group = value;
    if (flag == "--umask") options.umask = static_cast<mode_t>(std::strtoul(value, nullptr, 8));
    if (flag == "--stdout") options.stdout_path = value;
    if (flag == "--stderr") options.stderr_path = value;
    if (flag == "--keep-fd") options.keep_fds.push_back(std::atoi(value));
  }
  // Before become(): a signal sent the moment the launcher has exited finds
  // it blocked already.
  ductile::daemon::signals signals({SIGTERM, SIGHUP});
  ductile::daemon::become(options);
  if (report) {
    std::printf("pid %d\n", static_cast<int>(::getpid()));
    const auto child = ductile::sh("echo \"${NOTIFY_SOCKET-unset}\"").read();
    std::printf("child NOTIFY_SOCKET=%s\n", child.c_str());
    const auto interval = ductile::daemon::watchdog_interval();
    if (interval)
      std::printf("watchdog %lld\n", static_cast<long long>(interval->count()));
    else
      std::printf("watchdog none\n");
    for (const auto& passed : ductile::daemon::listen_fds())
      std::printf("listen %d:%s:%d\n", passed.fd, passed.name.c_str(), (::fcntl(passed, F_GETFD) & FD_CLOEXEC) != 0);
    const char* left = std::getenv("LISTEN_FDS");
    std::printf("listen env %s\n", left != nullptr ? left : "unset");
    std::printf("again %zu\n", ductile::daemon::listen_fds().size());
    std::fflush(stdout);
    ductile::daemon::ready();
    ductile::daemon::watchdog();
    ductile::daemon::stopping();
    return 0;
  }
  std::printf("started %d\n", static_cast<int>(::getpid()));
  std::fflush(stdout);
  if (!call_ready) return 3;
  ductile::daemon::ready();
  for (;;) {
    const int signal = signals.wait();
    if (signal == SIGHUP) {
      std::printf("reload\n");
      std::fflush(stdout);
    } else {
      ductile::daemon::stopping();
      std::printf("stopping\n");
      return 0;
    }
  }
}
