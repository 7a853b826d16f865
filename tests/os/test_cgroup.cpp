// own_cgroup(): whole process trees contained, killed and accounted for, on
// the cgroup v2 hierarchy this machine mounts (found in /proc/self/mountinfo).
#include <unistd.h>

#include <sstream>

#if __has_include("os/system_calls.hpp")
#include "os/system_calls.hpp"
#define DUCTILE_TEST_FAULTS 1
#endif

#include "support.hpp"

using namespace ductile;
using namespace std::chrono_literals;

namespace {

// The cgroup v2 directory this process is in, or empty with `missing` saying why.
std::string host_cgroup(std::string& missing) {
  std::ifstream mountinfo("/proc/self/mountinfo");
  std::string mount_point;
  for (std::string line; std::getline(mountinfo, line);) {
    const auto dash = line.find(" - cgroup2 ");
    if (dash == std::string::npos) continue;
    std::istringstream fields(line.substr(0, dash));
    std::string field;
    for (int i = 0; i < 5 && fields >> field; ++i) mount_point = field;
    break;  // the first, as the library takes
  }
  if (mount_point.empty()) {
    missing = "no cgroup v2 hierarchy is mounted";
    return {};
  }
  std::ifstream own("/proc/self/cgroup");
  std::string path = "/";
  for (std::string line; std::getline(own, line);)
    if (line.rfind("0::", 0) == 0) path = line.substr(3);
  return mount_point + (path == "/" ? "" : path);
}

// Whether own_cgroup() can work here; says why not otherwise.
bool cgroups_usable() {
  if (DUCTILE_POSIX_BACKEND) {
    MESSAGE("skipped: own_cgroup() is Linux's (this is the POSIX backend)");
    return false;
  }
  if (::geteuid() != 0) {
    MESSAGE("skipped: making cgroups needs root");
    return false;
  }
  std::string missing;
  const std::string host = host_cgroup(missing);
  if (host.empty()) {
    MESSAGE("skipped: " << missing);
    return false;
  }
  if (::access((host + "/cgroup.procs").c_str(), W_OK) != 0) {
    MESSAGE("skipped: " << host << " is not writable");
    return false;
  }
  return true;
}

// The cgroups this process has made that still exist.
std::vector<std::string> our_cgroups() {
  std::string missing;
  const std::string host = host_cgroup(missing);
  std::vector<std::string> found;
  const std::string prefix = "ductile-" + std::to_string(::getpid()) + "-";
  std::error_code ignored;
  for (const auto& entry : test::fs::directory_iterator(host, ignored))
    if (entry.path().filename().string().rfind(prefix, 0) == 0) found.push_back(entry.path().string());
  return found;
}

pid_t pid_in(const test::fs::path& file) {
  pid_t pid = 0;
  REQUIRE(test::eventually([&] {
    std::ifstream in(file);
    return static_cast<bool>(in >> pid);
  }));
  return pid;
}

// A shell that leaves a daemon in a session of its own, beyond any process
// group kill, and writes the daemon's pid to $0.
const char* const leave_daemon = "setsid sleep 1000 </dev/null >/dev/null 2>&1 & echo $! > \"$0\"";

}  // namespace

TEST_CASE("own_cgroup: a daemon that left its process group dies when the subtree ends") {
  if (!cgroups_usable()) return;
  test::leak_check check;
  test::temp_dir tmp;
  const output o = cmd("sh", "-c", leave_daemon, (tmp / "daemon").string()).own_cgroup().run();
  const pid_t daemon = pid_in(tmp / "daemon");
  CHECK(test::eventually([&] { return test::stopped_running(daemon); }, 5s));
  CHECK(our_cgroups().empty());
  REQUIRE(o.cgroup.has_value());
}

TEST_CASE("own_cgroup: kill() of the handle leaves nothing alive, and the cgroup is removed") {
  if (!cgroups_usable()) return;
  test::leak_check check;
  test::temp_dir tmp;
  handle h =
      cmd("sh", "-c", std::string(leave_daemon) + "; sleep 1000", (tmp / "daemon").string()).own_cgroup().start();
  const pid_t daemon = pid_in(tmp / "daemon");
  CHECK_FALSE(test::stopped_running(daemon));
  CHECK(our_cgroups().size() == 1);
  h.kill();
  CHECK(test::eventually([&] { return test::stopped_running(daemon); }, 5s));
  CHECK(our_cgroups().empty());
}

TEST_CASE("own_cgroup: before cgroup.kill (5.14), a frozen cgroup's processes are killed one by one") {
#if DUCTILE_TEST_FAULTS
  if (!cgroups_usable()) return;
  test::leak_check check;
  test::temp_dir tmp;
  using ductile::detail::sys::call;
  struct without_cgroup_kill {
    static int refuse(call which) noexcept { return which == call::cgroup_kill ? ENOENT : 0; }
    without_cgroup_kill() { ductile::detail::sys::set_fault_injector(refuse); }
    ~without_cgroup_kill() { ductile::detail::sys::set_fault_injector(nullptr); }
  } old_kernel;
  handle h =
      cmd("sh", "-c", std::string(leave_daemon) + "; sleep 1000", (tmp / "daemon").string()).own_cgroup().start();
  const pid_t daemon = pid_in(tmp / "daemon");
  h.kill();
  CHECK(test::eventually([&] { return test::stopped_running(daemon); }, 5s));
  CHECK(our_cgroups().empty());
#else
  MESSAGE("skipped: the fault seam is internal, out of the single header's reach");
#endif
}

TEST_CASE("own_cgroup: a timeout ends the daemon too") {
  if (!cgroups_usable()) return;
  test::leak_check check;
  test::temp_dir tmp;
  const auto tree = cmd("sh", "-c", std::string(leave_daemon) + "; sleep 1000", (tmp / "daemon").string())
                        .timeout(300ms)
                        .own_cgroup();
  CHECK_THROWS_AS(tree.run(), timeout_error);
  const pid_t daemon = pid_in(tmp / "daemon");
  CHECK(test::eventually([&] { return test::stopped_running(daemon); }, 5s));
  CHECK(our_cgroups().empty());
}

TEST_CASE("own_cgroup: a daemon holding the captured stdout does not hold up the run") {
  if (!cgroups_usable()) return;
  test::leak_check check;
  const output o = sh("setsid sleep 1000 & echo started").own_cgroup().stdout_capture().run();
  CHECK(o.stdout_bytes == "started\n");
  CHECK(our_cgroups().empty());
}

TEST_CASE("own_cgroup: every process of the subtree is in the new cgroup, and output::cgroup has its CPU time") {
  if (!cgroups_usable()) return;
  test::leak_check check;
  std::string missing;
  const std::string host = host_cgroup(missing);
  const auto where = cmd("cat", "/proc/self/cgroup");
  const output o = (where | cmd("cat") | sh("cat; grep ^0:: /proc/self/cgroup")).own_cgroup().stdout_capture().run();
  std::istringstream lines(o.stdout_bytes);
  std::vector<std::string> paths;
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("0::", 0) == 0) paths.push_back(line.substr(3));
  REQUIRE(paths.size() == 2);
  CHECK(paths[0] == paths[1]);
  CHECK(paths[0].find("/ductile-" + std::to_string(::getpid()) + "-") != std::string::npos);

  const output busy = test::helper("burn_cpu", "300").own_cgroup().run();
  REQUIRE(busy.cgroup.has_value());
  CHECK(busy.cgroup->cpu_time >= 250ms);
  CHECK(busy.cgroup->cpu_time < 5s);
  // Without own_cgroup() there is nothing to report.
  CHECK_FALSE(cmd("true").run().cgroup.has_value());
  // Nested: the inner cgroup is made inside the outer one.
  const std::string nested = sh("grep ^0:: /proc/self/cgroup").own_cgroup().own_cgroup().read();
  CHECK(nested.find("/ductile-" + std::to_string(::getpid()) + "-") !=
        nested.rfind("/ductile-" + std::to_string(::getpid()) + "-"));
  CHECK(our_cgroups().empty());
}

TEST_CASE("own_cgroup: limits need their controllers, and a bad parent is named") {
  if (!cgroups_usable()) return;
  test::leak_check check;
  std::string missing;
  const std::string host = host_cgroup(missing);
  const std::string enabled = test::slurp(test::fs::path(host) / "cgroup.subtree_control");
  if (enabled.find("pids") == std::string::npos) {
    cgroup_options limited;
    limited.pids_max = 8;
    const auto error = test::expect_error<spawn_error>([&] { cmd("true").own_cgroup(limited).run(); });
    CHECK(std::string(error.what()) ==
          "cannot run true [own_cgroup]: pids_max needs the pids controller, which is not "
          "enabled for cgroups in " +
              host + " (its cgroup.subtree_control)");
    CHECK(error.step() == "cgroup");
  } else {
    cgroup_options limited;
    limited.pids_max = 3;
    // Five sleepers in a cgroup that allows three processes: some forks fail.
    const output o = sh("n=0; for i in 1 2 3 4 5; do sleep 1 2>/dev/null & done 2>/dev/null; wait; echo done")
                         .own_cgroup(limited)
                         .unchecked()
                         .stdout_capture()
                         .stderr_null()
                         .run();
    CHECK(o.cgroup.has_value());
  }
  if (enabled.find("memory") == std::string::npos) {
    cgroup_options limited;
    limited.memory_max = 64 << 20;
    const auto error = test::expect_error<spawn_error>([&] { cmd("true").own_cgroup(limited).run(); });
    CHECK(std::string(error.what()).find("memory_max needs the memory controller") != std::string::npos);
  } else {
    MESSAGE("the memory controller is enabled here: memory.peak is reported");
    CHECK(cmd("true").own_cgroup().run().cgroup->memory_peak_bytes.has_value());
  }
  CHECK_THROWS_WITH_AS(cmd("sleep", "1").own_cgroup().start_detached(),
                       "start_detached(): a daemon outlives its parent; own_cgroup() cannot apply",
                       std::invalid_argument);
  cgroup_options elsewhere;
  elsewhere.parent = "/nonexistent/cgroup";
  const auto error = test::expect_error<spawn_error>([&] { cmd("true").own_cgroup(elsewhere).run(); });
  CHECK(std::string(error.what()).find("cannot make a cgroup at /nonexistent/cgroup/ductile-") != std::string::npos);
  CHECK(std::string(error.what()).find("No such file or directory") != std::string::npos);
  CHECK(our_cgroups().empty());
}

TEST_CASE("own_cgroup: no cgroup v2 mount is a spawn_error that says so") {
  if (!cgroups_usable()) return;
  if (!which("unshare")) {
    MESSAGE("skipped: unshare (util-linux) is not installed");
    return;
  }
  test::leak_check check;
  // In a mount namespace of its own, with every cgroup2 mount taken away.
  // The mount holding each one is made private there first (recursively), so
  // that no unmount propagates back to this machine's mounts. unshare's own
  // --propagation private is not used: it needs "/" to be a mount point, which
  // in a chroot it is not.
  const char* const without_cgroup2 =
      "for m in $(grep ' - cgroup2 ' /proc/self/mountinfo | cut -d ' ' -f 5); do\n"
      "  holder=$(findmnt -n -o TARGET --target \"${m%/*}\") &&\n"
      "    mount --make-rprivate \"$holder\" && umount \"$m\" || exit 3\n"
      "done\n"
      "exec \"$0\" own_cgroup";
  const output o = cmd("unshare", "--mount", "--propagation", "unchanged", "sh", "-c", without_cgroup2,
                       test::helper_path("cgroup_probe").string())
                       .stdout_capture()
                       .stderr_capture()
                       .unchecked()
                       .run();
  if (o.status.code() == 3) {
    MESSAGE("skipped: cannot take the cgroup2 mounts away in a mount namespace here: " << o.stderr_bytes);
    return;
  }
  CHECK(o.stderr_bytes == "");
  CHECK(
      o.stdout_bytes ==
      "cannot run true [own_cgroup]: own_cgroup() needs a cgroup v2 hierarchy, and /proc/self/mountinfo shows none\n");
  // This machine's own mount is still there.
  std::string missing;
  CHECK_FALSE(host_cgroup(missing).empty());
}

TEST_CASE("own_cgroup on the POSIX backend is a spawn_error saying so") {
  if (!DUCTILE_POSIX_BACKEND) {
    MESSAGE("not run: this is the Linux backend, which has cgroups");
    return;
  }
  const auto error = test::expect_error<spawn_error>([] { cmd("true").own_cgroup().run(); });
  CHECK(std::string(error.what()) == "cannot run true [own_cgroup]: own_cgroup() is not supported on this system");
}
