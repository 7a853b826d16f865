// N live children waited with a timeout: how many threads the process has,
// the parent's CPU per start and per exit (busy polling, or work that grows
// with the number of children, shows here), and the whole start+wait. Two
// baselines: one poll() over all pidfds (rebuilt and scanned on every
// wake-up) and an epoll set (work per event only).
//
// usage: live_children [children=1000] [seconds=10]

#include <sys/epoll.h>
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

// Times `start_all` (starts every child) and `wait_all` (waits for them,
// returns how many finished), wall clock and this process's CPU, and prints
// one line for `who`.
template <class StartAll, class WaitAll>
void measure(const char* who, int children, StartAll&& start_all, WaitAll&& wait_all) {
  const double start_cpu_before = cpu_seconds();
  const auto start = bench::clock_type::now();
  start_all();
  const double started = bench::seconds_since(start);
  const double start_cpu = cpu_seconds() - start_cpu_before;
  const int threads = bench::threads_now();
  const double wait_cpu_before = cpu_seconds();
  const auto wait_start = bench::clock_type::now();
  const int finished = wait_all();
  const double waited = bench::seconds_since(wait_start);
  const double wait_cpu = cpu_seconds() - wait_cpu_before;
  std::printf(
      "%-8s %d children started in %.3f s (%.3f ms CPU each); %d threads while they ran; waiting %.3f s cost "
      "%.4f s of CPU (%.3f ms per exit); start+wait %.3f s; %d finished\n",
      who, children, started, start_cpu * 1e3 / children, threads, waited, wait_cpu, wait_cpu * 1e3 / children,
      started + waited, finished);
  std::fflush(stdout);
}

// Each live child holds a few descriptors (its pidfd, the run's completion
// event): 10,000 children need more than most hard limits. Root may raise
// the hard limit too; anyone else gets up to theirs.
void raise_descriptor_limit() {
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  const rlimit wanted{65536, 65536};
  if (limit.rlim_max < wanted.rlim_max && setrlimit(RLIMIT_NOFILE, &wanted) == 0) return;
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
    measure(
        "ductile:", children,
        [&] {
          for (int i = 0; i < children; ++i) handles.push_back(ductile::cmd("sleep", sleep_for).start());
        },
        [&] {
          const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds + 30);
          int finished = 0;
          for (auto& h : handles)
            if (h.wait_until(deadline) != nullptr) ++finished;
          return finished;
        });
  }

  // Baseline: raw spawns, one poll over all pidfds.
  {
    const bench::raw::program program("sleep", {sleep_for});
    std::vector<pollfd> fds;
    measure(
        "poll:", children,
        [&] {
          for (int i = 0; i < children; ++i) fds.push_back(pollfd{program.spawn(), POLLIN, 0});
        },
        [&] {
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
          return finished;
        });
  }

  // Baseline: raw spawns, each pidfd added to an epoll set as it starts.
  {
    const bench::raw::program program("sleep", {sleep_for});
    const int set = epoll_create1(EPOLL_CLOEXEC);
    measure(
        "epoll:", children,
        [&] {
          for (int i = 0; i < children; ++i) {
            epoll_event event{};
            event.events = EPOLLIN;
            event.data.fd = program.spawn();
            epoll_ctl(set, EPOLL_CTL_ADD, event.data.fd, &event);
          }
        },
        [&] {
          int finished = 0;
          std::vector<epoll_event> events(256);
          while (finished < children) {
            const int ready = epoll_wait(set, events.data(), static_cast<int>(events.size()), (seconds + 30) * 1000);
            if (ready <= 0) break;
            for (int i = 0; i < ready; ++i) {
              epoll_ctl(set, EPOLL_CTL_DEL, events[i].data.fd, nullptr);
              bench::raw::wait_pidfd(events[i].data.fd);
              ++finished;
            }
          }
          return finished;
        });
    close(set);
  }
}
