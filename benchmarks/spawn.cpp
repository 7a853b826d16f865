// `cmd("true").run()` against the raw clone-vfork baseline, with the parent
// holding a given amount of resident memory; then fork+exec against the same
// baseline, which shows what fork-based spawning pays per MiB.
//
// usage: spawn [parent_mib=10] [spawns_per_round=200] [rounds=15] [fork_spawns=spawns_per_round]

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <ductile/ductile.hpp>

#include "paired.hpp"
#include "raw.hpp"

int main(int argc, char** argv) {
  const int parent_mib = bench::argument(argc, argv, 1, 10);
  const int spawns = bench::argument(argc, argv, 2, 200);
  const int rounds = bench::argument(argc, argv, 3, 15);
  // fork copies the page tables: at gigabytes a spawn takes milliseconds.
  const int fork_spawns = bench::argument(argc, argv, 4, spawns);
  const bench::ballast resident(static_cast<std::size_t>(parent_mib));

  const auto expression = ductile::cmd("true");
  const bench::raw::program program("true", {});
  const std::string name = "spawn true, " + std::to_string(parent_mib) + " MiB parent";
  bench::compare(
      name.c_str(), rounds, spawns,
      [&] {
        for (int i = 0; i < spawns; ++i) expression.run();
      },
      [&] {
        for (int i = 0; i < spawns; ++i) bench::raw::wait_pidfd(program.spawn());
      });

  const std::string fork_name = "fork+exec true, " + std::to_string(parent_mib) + " MiB parent";
  bench::compare(
      fork_name.c_str(), rounds, fork_spawns,
      [&] {
        for (int i = 0; i < fork_spawns; ++i) {
          const pid_t child = fork();
          if (child == 0) {
            execl("/bin/true", "true", static_cast<char*>(nullptr));
            _exit(127);
          }
          int status = 0;
          while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
          }
        }
      },
      [&] {
        for (int i = 0; i < fork_spawns; ++i) bench::raw::wait_pidfd(program.spawn());
      },
      "fork+exec");
}
