// The ways a child is started, each paired against the same baseline
// (posix_spawn and a blocking waitpid) with a parent of a given size:
//   a plain command: clone on Linux, posix_spawn in the POSIX backend;
//   with dir(): the same, with a chdir action where the C library has one;
//   with umask(): on Linux the same clone; in the POSIX backend a fork,
//   whose cost grows with the parent's memory (page tables are copied).
// Build with -Dportable=true to measure the POSIX backend.
//
// usage: start_paths [parent MiB=10] [spawns=100] [rounds=9]

#include <spawn.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ductile/ductile.hpp>

#include "paired.hpp"

extern char** environ;

int main(int argc, char** argv) {
  const int mib = bench::argument(argc, argv, 1, 10);
  const int spawns = bench::argument(argc, argv, 2, 100);
  const int rounds = bench::argument(argc, argv, 3, 9);
  // A parent of this size, every page touched, as a build tool's would be.
  const std::size_t size = static_cast<std::size_t>(mib) << 20;
  char* heap = static_cast<char*>(std::malloc(size));
  std::memset(heap, 1, size);

  char true_path[] = "/bin/true";
  char* true_argv[] = {true_path, nullptr};
  const auto raw = [&] {
    for (int i = 0; i < spawns; ++i) {
      pid_t pid = 0;
      if (posix_spawn(&pid, true_path, nullptr, nullptr, true_argv, environ) != 0) std::abort();
      int status = 0;
      while (waitpid(pid, &status, 0) < 0) {
      }
    }
  };
  const auto many = [&](const ductile::expression& e) {
    return [&, e] {
      for (int i = 0; i < spawns; ++i) e.run();
    };
  };
  char label[64];
  std::snprintf(label, sizeof label, "plain, %d MiB parent", mib);
  bench::compare(label, rounds, spawns, many(ductile::cmd("/bin/true")), raw);
  std::snprintf(label, sizeof label, "dir(/), %d MiB parent", mib);
  bench::compare(label, rounds, spawns, many(ductile::cmd("/bin/true").dir("/")), raw);
  std::snprintf(label, sizeof label, "umask(022), %d MiB parent", mib);
  bench::compare(label, rounds, spawns, many(ductile::cmd("/bin/true").umask(022)), raw);
  return heap[size - 1] == 1 ? 0 : 1;
}
