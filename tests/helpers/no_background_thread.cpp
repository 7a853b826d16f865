// Makes the background thread impossible to create (through the fault seam),
// then tries start(), reader() and a pool job, and prints what happened to
// each and whether the calling thread's signal mask survived.
#include <signal.h>

#include <cstdio>
#include <ductile/ductile.hpp>
#include <vector>
#if __has_include("os/system_calls.hpp")
#include "os/system_calls.hpp"
#endif

namespace {
int no_threads(ductile::detail::sys::call which) noexcept {
  return which == ductile::detail::sys::call::thread ? EAGAIN : 0;
}
bool mask_is_empty() {
  sigset_t mask;
  pthread_sigmask(SIG_SETMASK, nullptr, &mask);
  for (int sig = 1; sig < 32; ++sig)
    if (sigismember(&mask, sig)) return false;
  return true;
}
}  // namespace

int main() {
  using namespace ductile;
  ductile::detail::sys::set_fault_injector(no_threads);
  try {
    auto h = cmd("sleep", "5").start();
    std::puts("start: started");
  } catch (const spawn_error& e) {
    std::printf("start: spawn_error step=%s: %s\n", e.step().c_str(), e.what());
  }
  std::printf("mask empty: %s\n", mask_is_empty() ? "yes" : "no");
  try {
    auto r = cmd("echo", "hi").reader();
    std::puts("reader: started");
  } catch (const spawn_error& e) {
    std::printf("reader: spawn_error: %s\n", e.what());
  }
  {
    pool p(2);
    auto h = p.submit(cmd("sleep", "5"));
    try {
      h.wait();
      std::puts("pool job: ran");
    } catch (const spawn_error& e) {
      std::printf("pool job: spawn_error: %s\n", e.what());
    }
  }
  std::puts("pool destroyed");
  return 0;
}
