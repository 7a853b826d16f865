// Runs a few expressions and prints what happened, one line each, so that a
// test can run it under tests/os/as_kernel and compare: which way children
// are held (pidfds or pids), statuses, kill, a timeout, a pipe, a pool, and
// that no child is left behind.
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <ductile/ductile.hpp>
#include <string>
#include <vector>

#if __has_include("os/start_child.hpp")
#include "os/start_child.hpp"  // else the single header has it inline
#include "os/system_calls.hpp"
#endif

namespace {
int ignore_pidfd_flag(ductile::detail::sys::call which) noexcept {
  return which == ductile::detail::sys::call::pidfd_flag ? 1 : 0;
}
}  // namespace

// With --flag-ignored, the first spawn sees what a 4.18 kernel does with
// CLONE_PIDFD: the clone succeeds and no pidfd comes back.
int main(int argc, char** argv) {
  using namespace ductile;
  using namespace std::chrono_literals;
  if (argc > 1 && std::string(argv[1]) == "--flag-ignored") detail::sys::set_fault_injector(ignore_pidfd_flag);
  cmd("true").run();
  std::printf("pidfds: %s\n", detail::pidfds() == detail::pidfd_support::present ? "present" : "absent");
  std::printf("exit: %d\n", cmd("sh", "-c", "exit 3").unchecked().run().status.code().value_or(-1));
  std::printf("pipe: %s\n", (cmd("echo", "hi") | cmd("cat")).read().c_str());
  {
    handle sleeping = cmd("sleep", "30").unchecked().start();
    sleeping.kill();
    std::printf("kill: %s\n", to_string(sleeping.wait().status).c_str());
  }
  try {
    cmd("sleep", "30").timeout(100ms).run();
    std::printf("timeout: no\n");
  } catch (const timeout_error&) {
    std::printf("timeout: yes\n");
  }
  {
    pool jobs(4);
    std::vector<handle> handles;
    for (int i = 0; i < 20; ++i) handles.push_back(jobs.submit(cmd("sh", "-c", "exit 0")));
    jobs.wait_all();
    int succeeded = 0;
    for (auto& h : handles) succeeded += h.wait().status.success() ? 1 : 0;
    std::printf("pool: %d\n", succeeded);
  }
  siginfo_t info{};
  const int left = waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT);
  std::printf("children left: %s\n", left < 0 ? "none" : "some");
  return 0;
}
