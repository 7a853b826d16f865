#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "support.hpp"

using namespace ductile;
using test::helper;

namespace {
bool alive(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  return line.find(") Z ") == std::string::npos;
}

pid_t parent_of(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  std::istringstream rest(line.substr(line.rfind(')') + 2));
  char state;
  pid_t parent = 0;
  rest >> state >> parent;
  return parent;
}

struct daemon_guard {
  pid_t pid = 0;
  ~daemon_guard() {
    if (pid > 0) ::kill(pid, SIGKILL);
  }
};
}  // namespace

TEST_CASE("a daemon runs on its own, holding its pid file locked") {
  test::leak_check check;
  test::temp_dir tmp;
  ::chmod(tmp.path.c_str(), 0755);
  const auto pid_file = (tmp / "daemon.pid").string();
  const auto report = tmp / "report";
  daemon_guard daemon;
  daemon.pid = sh("umask > '" + report.string() + "'; pwd >> '" + report.string() + "'; exec sleep 100")
                   .start_detached(detach_options{pid_file});
  REQUIRE(daemon.pid > 0);
  CHECK(alive(daemon.pid));
  CHECK(test::eventually([&] { return test::slurp(report) == "0027\n/\n"; }));
  CHECK(test::slurp(pid_file) == std::to_string(daemon.pid) + "\n");
  CHECK(parent_of(daemon.pid) != ::getpid());  // double fork: not our child
  CHECK(::getsid(daemon.pid) != ::getsid(0));  // a session of its own, made by the first child,
  CHECK(::getsid(daemon.pid) != daemon.pid);   // which it does not lead: it can never get a terminal
  const int fd = ::open(pid_file.c_str(), O_RDONLY | O_CLOEXEC);
  CHECK(::flock(fd, LOCK_EX | LOCK_NB) != 0);  // the daemon holds the lock
  ::close(fd);
  CHECK(test::children().empty());
}

TEST_CASE("a second daemon on a locked pid file fails in the caller") {
  test::leak_check check;
  test::temp_dir tmp;
  const auto pid_file = (tmp / "daemon.pid").string();
  daemon_guard first;
  first.pid = cmd("sleep", "100").start_detached(detach_options{pid_file});
  try {
    cmd("sleep", "100").start_detached(detach_options{pid_file});
    FAIL("expected spawn_error");
  } catch (const spawn_error& error) {
    CHECK(error.step() == "pid file");
    CHECK(std::string(error.what()).find("already running") != std::string::npos);
  }
  CHECK(test::slurp(pid_file) == std::to_string(first.pid) + "\n");
}

TEST_CASE("exec failures and unknown users are errors in the caller, never silent") {
  test::leak_check check;
  try {
    cmd("no-such-program-ductile").start_detached();
    FAIL("expected spawn_error");
  } catch (const spawn_error& error) {
    CHECK(error.step() == "exec");
  }
  CHECK_THROWS_AS(cmd("sleep", "1").user("no-such-user-ductile").start_detached(), spawn_error);
  CHECK_THROWS_AS((cmd("a") | cmd("b")).start_detached(), std::invalid_argument);
  CHECK_THROWS_AS(cmd("true").stdout_capture().start_detached(), std::invalid_argument);
}

TEST_CASE("dir and umask override the daemon's defaults, and its stdio is /dev/null") {
  test::leak_check check;
  test::temp_dir tmp;
  const auto report = tmp / "report";
  daemon_guard daemon;
  daemon.pid = sh("umask; pwd; ls -l /proc/$$/fd/0 | sed 's/.*-> //'; exec sleep 100")
                   .stdout_path(report)
                   .dir(tmp.path)
                   .umask(022)
                   .start_detached();
  const auto real = std::filesystem::canonical(tmp.path).string();
  CHECK(test::eventually([&] { return test::slurp(report) == "0022\n" + real + "\n/dev/null\n"; }));
}

TEST_CASE("as root: the pid file is written after the switch to the daemon's user") {
  const auto now = caps::current().effective;
  if (!now.contains(caps::capability::setuid) || !now.contains(caps::capability::setgid)) {
    MESSAGE("skipped: this process cannot switch user");
    return;
  }
  test::leak_check check;
  test::temp_dir tmp;
  ::chmod(tmp.path.c_str(), 0755);
  const auto pid_file = (tmp / "daemon.pid").string();
  daemon_guard daemon;
  daemon.pid = cmd("sleep", "100").user("nobody").start_detached(detach_options{pid_file});
  CHECK(test::slurp(pid_file) == std::to_string(daemon.pid) + "\n");
  std::ifstream status("/proc/" + std::to_string(daemon.pid) + "/status");
  std::string uid_line;
  for (std::string line; std::getline(status, line);)
    if (line.rfind("Uid:", 0) == 0) uid_line = line;
  CHECK(uid_line == "Uid:\t65534\t65534\t65534\t65534");
}
