// burn_cpu MILLISECONDS: spins on the CPU for about that long of its own CPU time.
#include <cstdlib>
#include <ctime>

int main(int argc, char** argv) {
  const double wanted = argc > 1 ? std::atof(argv[1]) / 1000.0 : 0.05;
  volatile unsigned long sink = 0;
  while (static_cast<double>(std::clock()) / CLOCKS_PER_SEC < wanted)
    for (int i = 0; i < 100000; ++i) sink = sink + static_cast<unsigned long>(i);
  return 0;
}
