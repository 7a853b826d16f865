// spawn_without CAPABILITY USER: drops CAPABILITY from this process's effective
// set, then runs `true` as USER through ductile, and prints the spawn_error's
// step and message, to check the words of a failure in the child.
#include <cstdio>
#include <ductile/caps.hpp>
#include <ductile/ductile.hpp>

int main(int argc, char** argv) {
  using namespace ductile;
  if (argc < 3) return 2;
  const auto dropped = caps::from_string(argv[1]);
  if (!dropped) return 2;
  caps::state s = caps::current();
  s.effective.erase(*dropped);
  caps::apply(s);
  try {
    cmd("true").user(argv[2]).run();
    std::puts("started");
  } catch (const spawn_error& e) {
    std::printf("%s\n%s\n", e.step().c_str(), e.what());
  }
  return 0;
}
