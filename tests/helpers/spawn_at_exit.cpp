// Spawns from an atexit handler and from a static destructor, after the main
// thread's thread_local objects are gone, and has an observer hear of exits
// while static destructors run. Prints one line per spawn.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ductile/ductile.hpp>
#include <thread>

namespace {

struct lifetime_checking_observer : ductile::observer {
  bool alive = true;
  ~lifetime_checking_observer() override { alive = false; }
  void spawned(const ductile::spawn_event&) override {}
  void exited(const ductile::exit_event&) override {
    if (!alive) std::puts("observer used after destruction");
  }
};

// Constructed first, so destroyed last: the background thread is still
// reporting the detached run's exit while the other statics are destroyed.
struct slow_last_destructor {
  ~slow_last_destructor() {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    std::printf("static destructor: %s\n", ductile::cmd("echo", "from a destructor").read().c_str());
  }
};
slow_last_destructor last;

void at_exit() {
  std::printf("atexit: %s\n", ductile::cmd("echo", "from atexit").read().c_str());
  auto started = ductile::cmd("echo", "started at exit").stdout_capture().start();
  std::printf("atexit started: %s", started.wait().stdout_bytes.c_str());
  std::fflush(stdout);
}

}  // namespace

int main() {
  std::atexit(at_exit);
  ductile::set_observer(std::make_shared<lifetime_checking_observer>());
  std::printf("main: %s\n", ductile::cmd("echo", "from main").read().c_str());
  // Still running when main returns: its exit is reported during exit.
  ductile::cmd("sleep", "0.1").start().detach();
  std::fflush(stdout);
  return 0;
}
