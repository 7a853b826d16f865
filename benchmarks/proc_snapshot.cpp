// A full snapshot of every process (pid, ppid, name, state, RSS, CPU time)
// with EXTRA more processes alive, paired against the two ways people take
// one today:
//   ps -eo pid,ppid,comm,stat,rss,time   (the whole program, as a script runs it)
//   psutil.process_iter(["pid", "ppid", "name", "status", "memory_info", "cpu_times"]),
//     timed inside Python, so the interpreter's start is not counted against it
// ductile's side is proc::sampler::sample() on a sampler that has sampled before.
//
// usage: proc_snapshot [extra processes=1000] [rounds=11] [python=python3]   (the one with psutil)

#include <cstdio>
#include <cstdlib>
#include <ductile/ductile.hpp>
#include <ductile/proc.hpp>
#include <string>
#include <vector>

#include "paired.hpp"

namespace {

const char* const psutil_script =
    "import sys, time\n"
    "try:\n"
    "    import psutil\n"
    "except ImportError:\n"
    "    print('absent'); sys.exit(0)\n"
    "fields = ['pid', 'ppid', 'name', 'status', 'memory_info', 'cpu_times']\n"
    "list(psutil.process_iter(fields))\n"
    "times = []\n"
    "for _ in range(int(sys.argv[1])):\n"
    "    start = time.perf_counter()\n"
    "    n = len([p.info for p in psutil.process_iter(fields)])\n"
    "    times.append(time.perf_counter() - start)\n"
    "print(' '.join(repr(t) for t in times), n)\n";

}  // namespace

int main(int argc, char** argv) {
  const int extra = bench::argument(argc, argv, 1, 1000);
  const int rounds = bench::argument(argc, argv, 2, 11);
  const std::string python = argc > 3 ? argv[3] : "python3";

  std::vector<ductile::handle> sleepers;
  sleepers.reserve(static_cast<std::size_t>(extra));
  for (int i = 0; i < extra; ++i) sleepers.push_back(ductile::cmd("sleep", "600").start());

  ductile::proc::sampler sampler;
  std::size_t seen = 0;
  const auto snapshot = [&] { seen = sampler.sample().size(); };
  const auto ps = ductile::cmd("ps", "-eo", "pid,ppid,comm,stat,rss,time").stdout_null();
  bench::compare("snapshot vs ps", rounds, 1, snapshot, [&] { ps.run(); });
  std::printf("  (%zu processes in each snapshot)\n", seen);

  // psutil: its own timings of `rounds` snapshots, against ours taken right after.
  const std::string printed = ductile::cmd(python, "-c", psutil_script, std::to_string(rounds)).read();
  if (printed == "absent") {
    std::printf("snapshot vs psutil: psutil is not installed for %s\n", python.c_str());
  } else {
    std::vector<double> theirs, ours, ratios;
    const char* at = printed.c_str();
    for (int i = 0; i < rounds; ++i) {
      char* end = nullptr;
      theirs.push_back(std::strtod(at, &end));
      at = end;
      ours.push_back(bench::time_of(snapshot));
      ratios.push_back(ours.back() / theirs.back());
    }
    std::printf("%-34s ductile %9.2f ms  psutil   %9.2f ms  ratio %.3f  (min %.3f, max %.3f, %d rounds)\n",
                "snapshot vs psutil", bench::median(ours) * 1e3, bench::median(theirs) * 1e3, bench::median(ratios),
                *std::min_element(ratios.begin(), ratios.end()), *std::max_element(ratios.begin(), ratios.end()),
                rounds);
  }
  for (auto& h : sleepers) h.kill();
  return 0;
}
