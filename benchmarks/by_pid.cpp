// The by-pid path (kernels before 5.4, strict containers): run it under
// tests/os/as_kernel 4.18 so that ductile holds its children by pid. The
// baseline is what a program without pidfds writes: vfork, exec, a blocking
// waitpid. Three figures:
//   spawn + wait of `true`, paired against the baseline;
//   `sleep 0.2`, paired: the difference is how late an exit is noticed;
//   the CPU the parent burns while 100 children sleep 10 s (busy polling
//   would show here).
//
// usage: as_kernel 4.18 -- by_pid [spawns=200] [rounds=15] [children=100] [seconds=10]

#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <ductile/ductile.hpp>
#include <vector>

#include "paired.hpp"

extern char** environ;

namespace {

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec + (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

void raw_run(const char* path, char* const* argv) {
  pid_t pid = 0;
  if (posix_spawn(&pid, path, nullptr, nullptr, argv, environ) != 0) std::abort();
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
  }
}

}  // namespace

int main(int argc, char** argv) {
  const int spawns = bench::argument(argc, argv, 1, 200);
  const int rounds = bench::argument(argc, argv, 2, 15);
  const int children = bench::argument(argc, argv, 3, 100);
  const int seconds = bench::argument(argc, argv, 4, 10);

  const auto truth = ductile::cmd("/bin/true");
  char true_path[] = "/bin/true";
  char* true_argv[] = {true_path, nullptr};
  bench::compare(
      "by pid: spawn true", rounds, spawns,
      [&] {
        for (int i = 0; i < spawns; ++i) truth.run();
      },
      [&] {
        for (int i = 0; i < spawns; ++i) raw_run(true_path, true_argv);
      });

  const auto nap = ductile::cmd("/bin/sleep", "0.2");
  char sleep_path[] = "/bin/sleep";
  char nap_length[] = "0.2";
  char* sleep_argv[] = {sleep_path, nap_length, nullptr};
  bench::compare(
      "by pid: sleep 0.2", rounds > 5 ? 5 : rounds, 1, [&] { nap.run(); }, [&] { raw_run(sleep_path, sleep_argv); });

  std::vector<ductile::handle> handles;
  for (int i = 0; i < children; ++i) handles.push_back(ductile::cmd("/bin/sleep", std::to_string(seconds)).start());
  const double before = cpu_seconds();
  const auto start = bench::clock_type::now();
  for (auto& h : handles) h.wait();
  const double waited = bench::seconds_since(start);
  const double cpu = cpu_seconds() - before;
  std::printf("by pid: %d children sleeping %d s: waiting %.2f s cost %.4f s of CPU (%.3f%% of a core)\n", children,
              seconds, waited, cpu, 100.0 * cpu / waited);
}
