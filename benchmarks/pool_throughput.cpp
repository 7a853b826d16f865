// 1,000 `true` jobs through ductile::pool at max_parallel 1, 2, 4, 8 and 100,
// against three baselines, in alternating rounds in one process:
//   - one thread: posix_spawn + pidfd_open + poll, keeping max_parallel running;
//   - max_parallel threads, each looping posix_spawn + waitpid over a shared
//     counter (the raw form of starting in parallel);
//   - Python's ThreadPoolExecutor(max_parallel) mapping subprocess.run, timed
//     inside the interpreter (its start-up excluded), when python3 is there.
// Prints jobs per second (medians) and the medians of the per-round ratios of
// ductile's rate to each baseline's (above 1 is faster), and the threads the
// process had while ductile's jobs ran. Then the handoff at max_parallel 1:
// from the moment a job is reaped to the moment the next one has been
// spawned, for the pool (an observer's timestamps) and for the baseline's
// loop (after waitid, after posix_spawn).
//
// usage: pool_throughput [jobs] [rounds] [max_parallel,...]
// POOL_PROGRAM=/path runs that program (no arguments) instead of /bin/true:
// a static program that only exits shows the launch path's own cost, which
// the dynamic loading of /bin/true hides on machines where exec is slow.

#include <poll.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ductile/ductile.hpp>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

using clock_type = std::chrono::steady_clock;

const char* program() {
  static const char* const chosen = [] {
    const char* value = std::getenv("POOL_PROGRAM");
    return value != nullptr && *value != '\0' ? value : "/bin/true";
  }();
  return chosen;
}

// Every side checks that each child ran and exited 0, so that no rate counts
// failures (POOL_PROGRAM may name anything).
void require_success(const siginfo_t& info) {
  if (info.si_code == CLD_EXITED && info.si_status == 0) return;
  std::fprintf(stderr, "pool_throughput: %s did not exit 0\n", program());
  std::abort();
}

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
      if (posix_spawn(&pid, program(), nullptr, nullptr, argv, environ) != 0) std::abort();
      const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
      running.push_back(pollfd{pidfd, POLLIN, 0});
      ++started;
    }
    poll(running.data(), running.size(), -1);
    for (std::size_t i = 0; i < running.size();) {
      if (running[i].revents != 0) {
        siginfo_t info;
        if (syscall(SYS_waitid, P_PIDFD, running[i].fd, &info, WEXITED, nullptr) != 0) std::abort();
        require_success(info);
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

double raw_threads(int jobs, int parallel) {
  const auto start = clock_type::now();
  std::atomic<int> next{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < parallel; ++t)
    threads.emplace_back([&] {
      char* argv[] = {const_cast<char*>("true"), nullptr};
      while (next.fetch_add(1) < jobs) {
        pid_t pid;
        if (posix_spawn(&pid, program(), nullptr, nullptr, argv, environ) != 0) std::abort();
        int status;
        while (waitpid(pid, &status, 0) < 0) {
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) std::abort();
      }
    });
  for (auto& thread : threads) thread.join();
  return seconds_since(start);
}

// Seconds Python's executor took, as it measured them; a negative number
// when python3 cannot be run.
double python_pool(int jobs, int parallel) {
  const char* script =
      "import concurrent.futures, subprocess, sys, time\n"
      "jobs, parallel = int(sys.argv[1]), int(sys.argv[2])\n"
      "with concurrent.futures.ThreadPoolExecutor(parallel) as pool:\n"
      "    start = time.monotonic()\n"
      "    list(pool.map(lambda _: subprocess.run([sys.argv[3]], check=True), range(jobs)))\n"
      "    print(time.monotonic() - start)\n";
  try {
    return std::stod(ductile::cmd("python3", "-c", script, jobs, parallel, program()).read());
  } catch (const std::exception&) {
    return -1;
  }
}

double with_pool(int jobs, int parallel, int& threads) {
  const auto start = clock_type::now();
  ductile::pool p(static_cast<std::size_t>(parallel));
  std::vector<ductile::handle> handles;
  handles.reserve(static_cast<std::size_t>(jobs));
  const auto job = ductile::cmd(std::filesystem::path(program()));
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
    if (posix_spawn(&pid, program(), nullptr, nullptr, argv, environ) != 0) std::abort();
    if (i > 0) gaps.push_back(std::chrono::duration<double, std::micro>(clock_type::now() - reaped).count());
    const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
    pollfd waiting{pidfd, POLLIN, 0};
    poll(&waiting, 1, -1);
    siginfo_t info;
    if (syscall(SYS_waitid, P_PIDFD, pidfd, &info, WEXITED, nullptr) != 0) std::abort();
    require_success(info);
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
    const auto job = ductile::cmd(std::filesystem::path(program()));
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
  std::printf("%d jobs of %s, %d rounds, %u cores; ratio = ductile's jobs/s / the baseline's\n", jobs, program(),
              rounds, std::thread::hardware_concurrency());
  std::printf("%12s %10s %10s %10s %10s %9s %9s %9s %8s\n", "max_parallel", "1 thread", "N threads", "Python",
              "ductile", "vs 1", "vs N", "vs Python", "threads");
  std::vector<int> levels{1, 2, 4, 8, 100};
  if (argc > 3) {
    levels.clear();
    for (const char* at = argv[3]; *at != '\0';) {
      char* end;
      levels.push_back(static_cast<int>(std::strtol(at, &end, 10)));
      at = *end == ',' ? end + 1 : end;
      if (levels.back() <= 0) return 2;
    }
  }
  for (int parallel : levels) {
    std::vector<double> one, many, python, lib, vs_one, vs_many, vs_python;
    int threads = 0;
    for (int r = 0; r < rounds; ++r) {
      const double b = baseline(jobs, parallel);
      const double d = with_pool(jobs, parallel, threads);
      const double n = raw_threads(jobs, parallel);
      const double p = python_pool(jobs, parallel);
      one.push_back(jobs / b);
      lib.push_back(jobs / d);
      many.push_back(jobs / n);
      vs_one.push_back(b / d);
      vs_many.push_back(n / d);
      if (p > 0) {
        python.push_back(jobs / p);
        vs_python.push_back(p / d);
      }
    }
    const bool have_python = !python.empty();
    std::printf("%12d %10.0f %10.0f %10.0f %10.0f %9.3f %9.3f %9.3f %8d\n", parallel, median(one), median(many),
                have_python ? median(python) : 0.0, median(lib), median(vs_one), median(vs_many),
                have_python ? median(vs_python) : 0.0, threads);
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
