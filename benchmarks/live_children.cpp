// 1,000 live children waited with a timeout: how many threads the process
// has, and how much CPU the parent burns while it waits (busy polling would
// show here). The baseline is one poll() over 1,000 pidfds.
//
// usage: live_children [children=1000] [seconds=10]

#include <sys/resource.h>
#include <sys/time.h>

#include <chrono>
#include <ductile/ductile.hpp>
#include <thread>

#include "paired.hpp"
#include "raw.hpp"

namespace {

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec + (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

void raise_descriptor_limit() {
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
}

}  // namespace

int main(int argc, char** argv) {
  const int children = bench::argument(argc, argv, 1, 1000);
  const int seconds = bench::argument(argc, argv, 2, 10);
  raise_descriptor_limit();
  const std::string sleep_for = std::to_string(seconds);

  // ductile: every child started, then each waited with a deadline.
  {
    std::vector<ductile::handle> handles;
    handles.reserve(static_cast<std::size_t>(children));
    const auto start = bench::clock_type::now();
    for (int i = 0; i < children; ++i) handles.push_back(ductile::cmd("sleep", sleep_for).start());
    const double started = bench::seconds_since(start);
    const int threads = bench::threads_now();
    const double cpu_before = cpu_seconds();
    const auto wait_start = bench::clock_type::now();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds + 30);
    int finished = 0;
    for (auto& h : handles)
      if (h.wait_until(deadline) != nullptr) ++finished;
    const double waited = bench::seconds_since(wait_start);
    std::printf(
        "ductile:  %d children started in %.3f s; %d threads while they ran; waiting %.3f s cost %.4f s of CPU; %d "
        "finished\n",
        children, started, threads, waited, cpu_seconds() - cpu_before, finished);
  }

  // Baseline: raw spawns, one poll over all pidfds.
  {
    const bench::raw::program program("sleep", {sleep_for});
    std::vector<pollfd> fds;
    const auto start = bench::clock_type::now();
    for (int i = 0; i < children; ++i) fds.push_back(pollfd{program.spawn(), POLLIN, 0});
    const double started = bench::seconds_since(start);
    const int threads = bench::threads_now();
    const double cpu_before = cpu_seconds();
    const auto wait_start = bench::clock_type::now();
    int finished = 0;
    while (finished < children) {
      if (poll(fds.data(), fds.size(), (seconds + 30) * 1000) <= 0) break;
      for (auto& f : fds) {
        if (f.fd >= 0 && f.revents != 0) {
          bench::raw::wait_pidfd(f.fd);
          f.fd = -1;
          ++finished;
        }
      }
    }
    const double waited = bench::seconds_since(wait_start);
    std::printf(
        "baseline: %d children started in %.3f s; %d threads while they ran; waiting %.3f s cost %.4f s of CPU; %d "
        "finished\n",
        children, started, threads, waited, cpu_seconds() - cpu_before, finished);
  }
}
