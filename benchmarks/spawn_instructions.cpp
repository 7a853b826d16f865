// Parent user-space instructions per `cmd("true").run()`, for callgrind:
//   valgrind --tool=callgrind --instr-atstart=no spawn_instructions [spawns]
// Instrumentation is switched on only around the measured spawns, after a
// warm-up, so the figure is the steady-state cost. `instructions.sh` runs it
// and divides.

#include <valgrind/callgrind.h>

#include <cstdio>
#include <ductile/ductile.hpp>

#include "paired.hpp"

int main(int argc, char** argv) {
  const int spawns = bench::argument(argc, argv, 1, 100);
  const auto expression = ductile::cmd("true");
  for (int i = 0; i < 10; ++i) expression.run();
  CALLGRIND_ZERO_STATS;
  CALLGRIND_START_INSTRUMENTATION;
  for (int i = 0; i < spawns; ++i) expression.run();
  CALLGRIND_STOP_INSTRUMENTATION;
  CALLGRIND_DUMP_STATS_AT("measured spawns");
  std::printf("%d spawns measured\n", spawns);
}
