// Kernels before 5.4 and strict containers: run under tests/os/as_kernel's
// seccomp profiles, the library finds out at its first spawn that pidfds
// cannot be had, holds children by pid, and keeps every promise.
#include "support.hpp"

using namespace ductile;
using test::helper_path;

namespace {

// What platform_probe prints when all is well, with `pidfds` as it found them.
std::string expected_probe(const char* pidfds) {
  return std::string("pidfds: ") + pidfds + "\n" +
         "exit: 3\n"
         "pipe: hi\n"
         "kill: signal 9 (SIGKILL)\n"
         "timeout: yes\n"
         "pool: 20\n"
         "children left: none";
}

std::string probe_under(const std::string& profile) {
  if (profile.empty()) return cmd(helper_path("platform_probe")).read();
  return cmd(helper_path("as_kernel"), profile, "--", helper_path("platform_probe").string()).read();
}

// This process may itself run under a profile (CI runs the whole suite so):
// then no profile below can give pidfds back.
bool pidfds_here() { return probe_under("").find("pidfds: present") != std::string::npos; }

}  // namespace

TEST_CASE("pidfds are used where the kernel gives them, and close_range may be missing") {
  test::leak_check check;
  const char* here = pidfds_here() ? "present" : "absent";
  CHECK(probe_under("") == expected_probe(here));
  CHECK(probe_under("5.10") == expected_probe(here));
}

TEST_CASE("without pidfds children are held by pid, and everything still works") {
  test::leak_check check;
  for (const char* profile : {"5.3", "4.18", "eperm"}) {
    CAPTURE(profile);
    CHECK(probe_under(profile) == expected_probe("absent"));
  }
}

TEST_CASE("a kernel that ignores CLONE_PIDFD and leaves no pidfd is answered by holding children by pid") {
  test::leak_check check;
  CHECK(cmd(helper_path("platform_probe"), "--flag-ignored").read() == expected_probe("absent"));
}
