// `(cmd("true") | cmd("true") | cmd("true")).run()` against three raw spawns
// joined by two pipes.
//
// usage: pipeline [pipelines_per_round=100] [rounds=15]

#include <unistd.h>

#include <ductile/ductile.hpp>

#include "paired.hpp"
#include "raw.hpp"

int main(int argc, char** argv) {
  const int pipelines = bench::argument(argc, argv, 1, 100);
  const int rounds = bench::argument(argc, argv, 2, 15);

  using ductile::cmd;
  const auto expression = cmd("true") | cmd("true") | cmd("true");
  const bench::raw::program program("true", {});
  bench::compare(
      "true | true | true", rounds, pipelines,
      [&] {
        for (int i = 0; i < pipelines; ++i) expression.run();
      },
      [&] {
        for (int i = 0; i < pipelines; ++i) {
          // Default-sized pipes: a minimal implementation does not resize
          // pipes that carry nothing.
          const auto first = bench::raw::make_pipe(false);
          const auto second = bench::raw::make_pipe(false);
          const int a = program.spawn(-1, first.write);
          close(first.write);
          const int b = program.spawn(first.read, second.write);
          close(first.read);
          close(second.write);
          const int c = program.spawn(second.read);
          close(second.read);
          bench::raw::wait_pidfd(a);
          bench::raw::wait_pidfd(b);
          bench::raw::wait_pidfd(c);
        }
      });
}
