// What own_cgroup() reads from /proc: the cgroup v2 mount and the process's own cgroup.
#if __has_include("os/cgroup.hpp")
#include "os/cgroup.hpp"
#include "support.hpp"

using namespace ductile::detail;

TEST_CASE("the cgroup v2 mount is found among the others, whatever its optional fields") {
  const char* mountinfo =
      "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
      "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime shared:9 - cgroup cgroup rw,cpu\n"
      "41 31 0:38 /ci /sys/fs/cgroup/my\\040unified rw,relatime shared:10 master:2 - cgroup2 cgroup2 rw\n";
  const auto mount = find_cgroup2_mount(mountinfo);
  REQUIRE(mount.has_value());
  CHECK(mount->mount_point == "/sys/fs/cgroup/my unified");
  CHECK(mount->root == "/ci");
  CHECK_FALSE(find_cgroup2_mount("32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n").has_value());
  CHECK_FALSE(find_cgroup2_mount("").has_value());
}

TEST_CASE("the process's own cgroup is the 0:: line") {
  CHECK(unified_cgroup_path("4:memory:/a\n0::/user.slice/session-1.scope\n") == "/user.slice/session-1.scope");
  CHECK(unified_cgroup_path("0::/\n") == "/");
  CHECK_FALSE(unified_cgroup_path("1:cpu:/\n").has_value());
}

TEST_CASE("cpu.max is quota and period in microseconds") {
  CHECK(cpu_max_text(1.5) == "150000 100000");
  CHECK(cpu_max_text(0.25) == "25000 100000");
  CHECK(cpu_max_text(0.0001) == "1000 100000");  // the kernel's smallest quota
}
#else
#include "support.hpp"
TEST_CASE("cgroup internals are not reachable from the single header build") {}
#endif
