// 1,000 `true` jobs through ductile::pool at max_parallel 2, 8 and 100, against
// a baseline written directly with posix_spawn + pidfd_open + poll, in
// alternating rounds in one process. Prints medians and the median of the
// per-round ratios (ductile time / baseline time; below 1 is faster), and the
// threads the process had while ductile's jobs ran. Then the handoff at
// max_parallel 1: from the moment a job is reaped to the moment the next one
// has been spawned, for the pool (an observer's timestamps) and for the
// baseline's loop (after waitid, after posix_spawn).
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
#include <mutex>
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

double percentile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  return values[static_cast<std::size_t>(p * static_cast<double>(values.size() - 1))];
}

// Reap-to-spawn gaps of the baseline loop at max_parallel 1, in microseconds.
std::vector<double> baseline_handoffs(int jobs) {
  std::vector<double> gaps;
  char* argv[] = {const_cast<char*>("true"), nullptr};
  clock_type::time_point reaped{};
  for (int i = 0; i < jobs; ++i) {
    pid_t pid;
    if (posix_spawn(&pid, "/bin/true", nullptr, nullptr, argv, environ) != 0) std::abort();
    if (i > 0) gaps.push_back(std::chrono::duration<double, std::micro>(clock_type::now() - reaped).count());
    const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
    pollfd waiting{pidfd, POLLIN, 0};
    poll(&waiting, 1, -1);
    siginfo_t info;
    syscall(SYS_waitid, P_PIDFD, pidfd, &info, WEXITED, nullptr);
    reaped = clock_type::now();
    close(pidfd);
  }
  return gaps;
}

// The pool's: an observer hears each reap and each spawn on the thread that
// makes them. A first job that sleeps keeps the others queued until all are
// submitted, so every handoff measured is the background thread's.
class handoff_clock : public ductile::observer {
 public:
  void spawned(const ductile::spawn_event&) override {
    const auto now = clock_type::now();
    std::lock_guard<std::mutex> lock(mutex_);
    if (reaped_ != clock_type::time_point{})
      gaps_.push_back(std::chrono::duration<double, std::micro>(now - reaped_).count());
  }
  void exited(const ductile::exit_event&) override {
    const auto now = clock_type::now();
    std::lock_guard<std::mutex> lock(mutex_);
    reaped_ = now;
  }
  std::vector<double> gaps() {
    std::lock_guard<std::mutex> lock(mutex_);
    return gaps_;
  }

 private:
  std::mutex mutex_;
  std::vector<double> gaps_;
  clock_type::time_point reaped_{};
};

std::vector<double> pool_handoffs(int jobs) {
  auto clock = std::make_shared<handoff_clock>();
  ductile::set_observer(clock);
  {
    ductile::pool p(1);
    std::vector<ductile::handle> handles;  // a dropped handle would cancel its job
    handles.push_back(p.submit(ductile::cmd("sleep", "0.5")));
    const auto job = ductile::cmd("/bin/true");
    for (int i = 0; i < jobs; ++i) handles.push_back(p.submit(job));
    p.wait_all();
  }
  ductile::set_observer(nullptr);
  return clock->gaps();
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
  const auto raw_gaps = baseline_handoffs(jobs);
  const auto pool_gaps = pool_handoffs(jobs);
  std::printf(
      "handoff at max_parallel 1, reap to next spawn (us): baseline median %.1f p90 %.1f; "
      "pool median %.1f p90 %.1f (%zu and %zu handoffs)\n",
      median(raw_gaps), percentile(raw_gaps, 0.9), median(pool_gaps), percentile(pool_gaps, 0.9), raw_gaps.size(),
      pool_gaps.size());
  return 0;
}
