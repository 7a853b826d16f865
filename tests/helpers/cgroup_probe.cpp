// cgroup_probe own_cgroup: runs `true` in its own cgroup and prints the error, if any.
#include <cstdio>
#include <ductile/ductile.hpp>

int main() {
  try {
    ductile::cmd("true").own_cgroup().run();
    std::puts("ran");
  } catch (const std::exception& failure) {
    std::puts(failure.what());
  }
  return 0;
}
