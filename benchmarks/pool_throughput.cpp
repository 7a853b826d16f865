// 1,000 `true` jobs through ductile::pool at max_parallel 2, 8 and 100, against
// a baseline written directly with posix_spawn + pidfd_open + poll, in
// alternating rounds in one process. Prints medians and the median of the
// per-round ratios (ductile time / baseline time; below 1 is faster), and the
// threads the process had while ductile's jobs ran.
//
// usage: pool_throughput [jobs] [rounds]

#include <poll.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ductile/ductile.hpp>
#include <fstream>
#include <string>
#include <vector>

extern char** environ;

namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

int threads_now() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("Threads:", 0) == 0) return std::atoi(line.c_str() + 8);
  return -1;
}

double baseline(int jobs, int parallel) {
  const auto start = clock_type::now();
  std::vector<pollfd> running;
  int started = 0;
  char* argv[] = {const_cast<char*>("true"), nullptr};
  while (started < jobs || !running.empty()) {
    while (started < jobs && static_cast<int>(running.size()) < parallel) {
      pid_t pid;
      if (posix_spawn(&pid, "/bin/true", nullptr, nullptr, argv, environ) != 0) std::abort();
      const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
      running.push_back(pollfd{pidfd, POLLIN, 0});
      ++started;
    }
    poll(running.data(), running.size(), -1);
    for (std::size_t i = 0; i < running.size();) {
      if (running[i].revents != 0) {
        siginfo_t info;
        syscall(SYS_waitid, P_PIDFD, running[i].fd, &info, WEXITED, nullptr);
        close(running[i].fd);
        running[i] = running.back();
        running.pop_back();
      } else {
        ++i;
      }
    }
  }
  return seconds_since(start);
}

double with_pool(int jobs, int parallel, int& threads) {
  const auto start = clock_type::now();
  ductile::pool p(static_cast<std::size_t>(parallel));
  std::vector<ductile::handle> handles;
  handles.reserve(static_cast<std::size_t>(jobs));
  const auto job = ductile::cmd("/bin/true");
  for (int i = 0; i < jobs; ++i) handles.push_back(p.submit(job));
  threads = std::max(threads, threads_now());
  p.wait_all();
  const double took = seconds_since(start);
  for (auto& h : handles) h.wait();
  return took;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const int jobs = argc > 1 ? std::atoi(argv[1]) : 1000;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 5;
  std::printf("%d jobs of /bin/true, %d rounds, ratio = ductile / baseline\n", jobs, rounds);
  std::printf("%12s %16s %16s %8s %8s\n", "max_parallel", "baseline jobs/s", "ductile jobs/s", "ratio", "threads");
  for (int parallel : {2, 8, 100}) {
    std::vector<double> raw, lib, ratios;
    int threads = 0;
    for (int r = 0; r < rounds; ++r) {
      const double b = baseline(jobs, parallel);
      const double d = with_pool(jobs, parallel, threads);
      raw.push_back(b);
      lib.push_back(d);
      ratios.push_back(d / b);
    }
    std::printf("%12d %16.0f %16.0f %8.3f %8d\n", parallel, jobs / median(raw), jobs / median(lib), median(ratios),
                threads);
  }
  return 0;
}
