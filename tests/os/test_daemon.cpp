// <ductile/daemon.hpp>: the running program becomes a daemon (helpers/
// daemon_app.cpp), its launcher reports how that went, and under a notify
// socket the test listens on it speaks systemd's protocol instead of forking.
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <ductile/daemon.hpp>

#include "support.hpp"

using namespace ductile;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// A field of /proc/<pid>/status ("Umask", "Uid", ...), its first word.
std::string status_field(pid_t pid, const std::string& name) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind(name + ":", 0) == 0) {
      std::istringstream words(line.substr(name.size() + 1));
      std::string first;
      words >> first;
      return first;
    }
  return {};
}

// What each open descriptor of `pid` refers to.
std::map<int, std::string> open_fds(pid_t pid) {
  std::map<int, std::string> fds;
  const fs::path dir = "/proc/" + std::to_string(pid) + "/fd";
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::error_code ignored;
    fds[std::stoi(entry.path().filename().string())] = fs::read_symlink(entry.path(), ignored).string();
  }
  return fds;
}

// The daemon a test started, ended with SIGKILL if the test did not end it.
struct running_daemon {
  pid_t pid = 0;
  ~running_daemon() {
    if (pid > 0 && !test::stopped_running(pid)) ::kill(pid, SIGKILL);
  }
};

pid_t read_pid(const fs::path& file) { return static_cast<pid_t>(std::stol(test::slurp(file))); }

// A datagram socket the test listens on, as systemd's notify socket.
struct notify_listener {
  int fd = -1;
  std::string address;  // as NOTIFY_SOCKET names it
  explicit notify_listener(const std::string& name) : address(name) {
    fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_un where{};
    where.sun_family = AF_UNIX;
    std::memcpy(where.sun_path, name.data(), name.size());
    socklen_t length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size());
    if (name[0] == '@')
      where.sun_path[0] = '\0';
    else
      ++length;
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&where), length) == 0);
  }
  ~notify_listener() { ::close(fd); }
  // Every datagram that has arrived, in order.
  std::vector<std::string> received() const {
    std::vector<std::string> all;
    char buffer[4096];
    for (;;) {
      const ssize_t got = ::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
      if (got < 0) break;
      all.emplace_back(buffer, static_cast<std::size_t>(got));
    }
    return all;
  }
};

expression app(const std::vector<std::string>& args) { return cmd(test::helper_path("daemon_app"), args); }

}  // namespace

TEST_CASE("the launcher exits 0 once the daemon is ready, and the daemon is set up as asked") {
  test::temp_dir tmp;
  running_daemon d;
  const auto pid_file = tmp / "app.pid";
  const auto log = tmp / "app.log";
  const output launched =
      app({"--pid-file", pid_file.string(), "--dir", tmp.path.string(), "--umask", "077", "--stdout", log.string()})
          .stderr_capture()
          .run();
  CHECK(launched.stderr_bytes.empty());
  // Race-free: the pid file is there when the launcher has exited 0.
  REQUIRE(fs::exists(pid_file));
  d.pid = read_pid(pid_file);
  CHECK(test::slurp(pid_file) == std::to_string(d.pid) + "\n");
  CHECK(!test::stopped_running(d.pid));
  CHECK(d.pid != launched.processes[0].pid);
  // Its own session, and not its leader: it cannot get a controlling terminal.
  CHECK(::getsid(d.pid) != ::getsid(0));
  CHECK(::getsid(d.pid) != d.pid);
  CHECK(fs::read_symlink("/proc/" + std::to_string(d.pid) + "/cwd") == tmp.path);
  CHECK(status_field(d.pid, "Umask") == "0077");
  const auto fds = open_fds(d.pid);
  CHECK(fds.at(0) == "/dev/null");
  CHECK(fds.at(1) == log.string());
  CHECK(fds.at(2) == "/dev/null");
  // Beyond the three: the pid file (its lock) and the signal loop's descriptor.
  std::vector<std::string> others;
  for (const auto& [fd, target] : fds)
    if (fd > 2) others.push_back(target);
  std::sort(others.begin(), others.end());
  // The signal loop is a signalfd, or on the POSIX backend a pipe (both ends).
  REQUIRE(others.size() >= 2);
  CHECK(others[0] == pid_file.string());
  if (others.size() == 2) {
    CHECK(others[1] == "anon_inode:[signalfd]");
  } else {
    REQUIRE(others.size() == 3);
    CHECK(others[1].rfind("pipe:", 0) == 0);
    CHECK(others[2] == others[1]);
  }
  CHECK(test::eventually([&] { return test::slurp(log) == "started " + std::to_string(d.pid) + "\n"; }));
}

TEST_CASE("a second start is refused by the lock; SIGHUP reloads; SIGTERM stops and the pid file goes") {
  test::temp_dir tmp;
  running_daemon d;
  const auto pid_file = tmp / "app.pid";
  const auto log = tmp / "app.log";
  app({"--pid-file", pid_file.string(), "--stdout", log.string()}).run();
  d.pid = read_pid(pid_file);
  const output second =
      app({"--pid-file", pid_file.string(), "--stdout", log.string()}).stderr_capture().unchecked().run();
  CHECK(second.status.code() == 1);
  CHECK(second.stderr_bytes == "ductile::daemon: pid file " + pid_file.string() +
                                   " is locked: already running as process " + std::to_string(d.pid) + "\n");
  CHECK(test::slurp(pid_file) == std::to_string(d.pid) + "\n");  // the refused start left it alone
  REQUIRE(::kill(d.pid, SIGHUP) == 0);
  CHECK(test::eventually([&] { return test::slurp(log).find("reload\n") != std::string::npos; }));
  REQUIRE(::kill(d.pid, SIGTERM) == 0);
  CHECK(test::eventually([&] { return test::stopped_running(d.pid); }));
  CHECK(test::eventually([&] { return !fs::exists(pid_file); }));
  CHECK(test::slurp(log) == "started " + std::to_string(d.pid) + "\nreload\nstopping\n");
}

TEST_CASE("each failure on the way is printed by the launcher, which exits 1") {
  test::temp_dir tmp;
  struct row {
    std::vector<std::string> args;
    std::string message;
  };
  const row rows[] = {
      {{"--user", "no-such-user-ductile"}, "unknown user 'no-such-user-ductile'"},
      {{"--group", "no-such-group-ductile"}, "unknown group 'no-such-group-ductile'"},
      {{"--dir", (tmp / "missing").string()},
       "cannot change directory to " + (tmp / "missing").string() + ": No such file or directory"},
      {{"--stdout", (tmp / "missing" / "app.log").string()},
       "cannot open log " + (tmp / "missing" / "app.log").string() + ": No such file or directory"},
      {{"--pid-file", (tmp / "missing" / "app.pid").string()},
       "pid file directory " + (tmp / "missing").string() + " does not exist"},
      {{"--no-ready"}, "the daemon exited before it was ready"},
      {{"--pid-file", (tmp / "link.pid").string()}, "pid file " + (tmp / "link.pid").string() + " is a symbolic link"},
      {{"--pid-file", tmp.path.string()}, "pid file " + tmp.path.string() + " is not a regular file"},
  };
  // A link planted where the pid file goes: what it points to stays as it was.
  test::write_file(tmp / "precious", "keep me\n");
  fs::create_symlink(tmp / "precious", tmp / "link.pid");
  for (const auto& r : rows) {
    CAPTURE(r.message);
    const output out = app(r.args).stderr_capture().unchecked().run();
    CHECK(out.status.code() == 1);
    CHECK(out.stderr_bytes == "ductile::daemon: " + r.message + "\n");
  }
  CHECK(test::slurp(tmp / "precious") == "keep me\n");
}

TEST_CASE("the daemon survives the end of the launcher's session") {
  test::temp_dir tmp;
  running_daemon d;
  const auto pid_file = tmp / "app.pid";
  const output launched = app({"--pid-file", pid_file.string()}).new_session().run();
  d.pid = read_pid(pid_file);
  // What a closing terminal does to its session: every process of it is hung up.
  const pid_t session = launched.processes[0].pid;
  ::kill(-session, SIGHUP);
  ::kill(-session, SIGKILL);
  std::this_thread::sleep_for(200ms);
  CHECK(!test::stopped_running(d.pid));
  ::kill(d.pid, SIGTERM);
  CHECK(test::eventually([&] { return test::stopped_running(d.pid); }));
}

TEST_CASE("descriptors above 2 are closed except those the caller keeps") {
  test::temp_dir tmp;
  running_daemon d;
  const auto pid_file = tmp / "app.pid";
  const int kept = ::open("/dev/zero", O_RDONLY);  // inherited: no O_CLOEXEC
  const int dropped = ::open("/dev/full", O_RDONLY);
  REQUIRE(kept >= 0);
  REQUIRE(dropped >= 0);
  app({"--pid-file", pid_file.string(), "--keep-fd", std::to_string(kept)})
      .pass_fd(kept, kept)
      .pass_fd(dropped, dropped)
      .run();
  ::close(kept);
  ::close(dropped);
  d.pid = read_pid(pid_file);
  const auto fds = open_fds(d.pid);
  CHECK(fds.count(kept) == 1);
  if (fds.count(kept)) CHECK(fds.at(kept) == "/dev/zero");
  CHECK(fds.count(dropped) == 0);
  ::kill(d.pid, SIGTERM);
  CHECK(test::eventually([&] { return test::stopped_running(d.pid); }));
}

TEST_CASE("user and group are switched to before the pid file and the logs are made") {
  if (::geteuid() != 0) {
    MESSAGE("skipped: switching users needs root");
    return;
  }
  const passwd* nobody = ::getpwnam("nobody");
  const group* nogroup = ::getgrnam("nogroup");
  REQUIRE(nobody != nullptr);
  REQUIRE(nogroup != nullptr);
  const uid_t uid = nobody->pw_uid;
  const gid_t gid = nogroup->gr_gid;
  test::temp_dir tmp;
  fs::permissions(tmp.path, fs::perms::all | fs::perms::sticky_bit);
  running_daemon d;
  const auto pid_file = tmp / "app.pid";
  const auto log = tmp / "app.log";
  app({"--pid-file", pid_file.string(), "--user", "nobody", "--group", "nogroup", "--stdout", log.string()}).run();
  d.pid = read_pid(pid_file);
  CHECK(status_field(d.pid, "Uid") == std::to_string(uid));
  CHECK(status_field(d.pid, "Gid") == std::to_string(gid));
  struct stat made {};
  REQUIRE(::stat(pid_file.c_str(), &made) == 0);
  CHECK(made.st_uid == uid);
  REQUIRE(::stat(log.c_str(), &made) == 0);
  CHECK(made.st_uid == uid);
  ::kill(d.pid, SIGTERM);
  CHECK(test::eventually([&] { return test::stopped_running(d.pid); }));
}

TEST_CASE("under a notify socket: no fork, the exact datagrams, and NOTIFY_SOCKET kept from children") {
  test::temp_dir tmp;
  for (const std::string& address : {(tmp / "notify").string(), "@ductile-test-" + std::to_string(::getpid())}) {
    CAPTURE(address);
    notify_listener listener(address);
    const auto pid_file = tmp / "app.pid";
    const output out = app({"--report", "--pid-file", pid_file.string()})
                           .env("NOTIFY_SOCKET", address)
                           .env("WATCHDOG_USEC", "2500000")
                           .env_remove("WATCHDOG_PID")
                           .stdout_capture()
                           .run();
    // The process the test started is the service itself.
    CHECK(out.stdout_bytes.rfind("pid " + std::to_string(out.processes[0].pid) + "\n", 0) == 0);
    CHECK(out.stdout_bytes.find("child NOTIFY_SOCKET=unset\n") != std::string::npos);
    CHECK(out.stdout_bytes.find("watchdog 2500000\n") != std::string::npos);
    CHECK(listener.received() == std::vector<std::string>{"READY=1", "WATCHDOG=1", "STOPPING=1"});
    CHECK_FALSE(fs::exists(pid_file));  // removed at the clean exit
  }
}

TEST_CASE("watchdog_interval() follows WATCHDOG_USEC and WATCHDOG_PID") {
  const auto interval_with = [](const char* usec, const char* pid) {
    usec ? ::setenv("WATCHDOG_USEC", usec, 1) : ::unsetenv("WATCHDOG_USEC");
    pid ? ::setenv("WATCHDOG_PID", pid, 1) : ::unsetenv("WATCHDOG_PID");
    const auto interval = daemon::watchdog_interval();
    ::unsetenv("WATCHDOG_USEC");
    ::unsetenv("WATCHDOG_PID");
    return interval;
  };
  const std::string self = std::to_string(::getpid());
  CHECK(interval_with("30000000", nullptr) == std::chrono::microseconds(30000000));
  CHECK(interval_with("1500", self.c_str()) == std::chrono::microseconds(1500));
  CHECK(interval_with("1500", "1") == std::nullopt);  // another process is watched
  CHECK(interval_with(nullptr, nullptr) == std::nullopt);
  CHECK(interval_with("0", nullptr) == std::nullopt);
  CHECK(interval_with("12s", nullptr) == std::nullopt);
  CHECK(interval_with("-5", nullptr) == std::nullopt);
  CHECK(interval_with("", nullptr) == std::nullopt);
}

TEST_CASE("listen_fds() takes the sockets systemd passed, with their names, once") {
  test::temp_dir tmp;
  const auto listening = [&](const std::string& name) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);  // inherited, as systemd passes it
    sockaddr_un where{};
    where.sun_family = AF_UNIX;
    const std::string path = (tmp / name).string();
    std::memcpy(where.sun_path, path.c_str(), path.size() + 1);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&where), sizeof where) == 0);
    REQUIRE(::listen(fd, 4) == 0);
    return fd;
  };
  const int web = listening("web"), admin = listening("admin");
  // Under systemd, so that the service does not fork away from the pipe.
  notify_listener listener((tmp / "notify").string());
  // LISTEN_PID is the service's own pid: a shell sets it and execs the service.
  const auto passed = [&](const std::string& names) {
    return cmd("sh", "-c", "LISTEN_PID=$$ exec \"$0\" --report", test::helper_path("daemon_app"))
        .pass_fd(web, 3)
        .pass_fd(admin, 4)
        .env("NOTIFY_SOCKET", listener.address)
        .env("LISTEN_FDS", "2")
        .env("LISTEN_FDNAMES", names)
        .read();
  };
  const std::string named = passed("web:admin");
  CAPTURE(named);
  CHECK(named.find("listen 3:web:1\nlisten 4:admin:1\nlisten env unset\nagain 2") != std::string::npos);
  CHECK(passed("").find("listen 3:unknown:1\nlisten 4:unknown:1\n") != std::string::npos);
  // Meant for another process: nothing is taken.
  const std::string elsewhere = cmd(test::helper_path("daemon_app"), "--report")
                                    .pass_fd(web, 3)
                                    .env("NOTIFY_SOCKET", listener.address)
                                    .env("LISTEN_PID", "1")
                                    .env("LISTEN_FDS", "1")
                                    .read();
  CAPTURE(elsewhere);
  CHECK(elsewhere.find("listen env unset\nagain 0") != std::string::npos);
  CHECK(elsewhere.find("listen 3") == std::string::npos);
  ::close(web);
  ::close(admin);
}

TEST_CASE("signals: a loop without handlers, alone and through handle()") {
  daemon::signals loop({SIGUSR1, SIGUSR2});
  CHECK(loop.wait_for(20ms) == std::nullopt);
  ::kill(::getpid(), SIGUSR1);
  CHECK(loop.wait() == SIGUSR1);
  // An event loop polls the handle, then takes the signal without waiting.
  pollfd entry{loop.handle(), POLLIN, 0};
  CHECK(::poll(&entry, 1, 0) == 0);
  ::kill(::getpid(), SIGUSR2);
  CHECK(::poll(&entry, 1, 5000) == 1);
  CHECK(loop.wait_for(0ms) == SIGUSR2);
  CHECK(loop.wait_for(0ms) == std::nullopt);
}

TEST_CASE("signals beside an interrupt_guard: the loop keeps its own signals") {
  interrupt_guard guard({SIGINT, SIGUSR1});
  {
    daemon::signals loop({SIGUSR1});
    ::kill(::getpid(), SIGUSR1);
    CHECK(loop.wait_for(5s) == SIGUSR1);
    CHECK_FALSE(interrupt_guard::interrupted());
  }
  // Once the loop is gone, its signal is the guard's again.
  ::kill(::getpid(), SIGUSR1);
  CHECK(test::eventually([] { return interrupt_guard::interrupted(); }));
}

TEST_CASE("examples/daemon.cpp end to end: start, metrics, SIGHUP, SIGTERM, nothing left") {
  test::temp_dir tmp;
  running_daemon d;
  const auto config = tmp / "workers", metrics = tmp / "metrics.prom", pid_file = tmp / "supervisor.pid",
             log = tmp / "supervisor.log";
  test::write_file(config, "sleep 300\n# a comment\nwhile :; do sleep 0.05; done\n");
  cmd(test::helper_path("example_daemon"), "--config", config, "--metrics", metrics, "--pid-file", pid_file, "--log",
      log, "--interval-ms", "50")
      .run();
  d.pid = read_pid(pid_file);
  // The worker processes the metrics name.
  const auto worker_pids = [&] {
    std::vector<pid_t> pids;
    std::istringstream lines(test::slurp(metrics));
    for (std::string line; std::getline(lines, line);)
      if (line.rfind("supervisor_worker_process{", 0) == 0) {
        const auto at = line.find("pid=\"") + 5;
        pids.push_back(static_cast<pid_t>(std::stol(line.substr(at, line.find('"', at) - at))));
      }
    return pids;
  };
  REQUIRE(test::eventually([&] {
    const std::string text = test::slurp(metrics);
    return text.find("supervisor_worker_up{worker=\"0\"} 1\n") != std::string::npos &&
           text.find("supervisor_worker_up{worker=\"1\"} 1\n") != std::string::npos;
  }));
  const auto first = worker_pids();
  REQUIRE(first.size() == 2);
  for (const pid_t pid : first) CHECK(!test::stopped_running(pid));
  CHECK(test::slurp(metrics).find("supervisor_worker_resident_bytes{worker=\"0\"} ") != std::string::npos);
  // A reload with one worker: the old ones end, the new one runs.
  test::write_file(config, "sleep 301\n");
  ::kill(d.pid, SIGHUP);
  REQUIRE(test::eventually([&] {
    const auto now = worker_pids();
    return now.size() == 1 && now[0] != first[0] && now[0] != first[1];
  }));
  for (const pid_t pid : first) CHECK(test::eventually([&] { return test::stopped_running(pid); }));
  const auto second = worker_pids();
  ::kill(d.pid, SIGTERM);
  CHECK(test::eventually([&] { return test::stopped_running(d.pid); }));
  CHECK_FALSE(fs::exists(pid_file));
  for (const pid_t pid : second) CHECK_FALSE(!test::stopped_running(pid));
  CHECK(test::slurp(log) == "running 2 workers\nreloading\nrunning 1 workers\nstopping\nstopped\n");
}
