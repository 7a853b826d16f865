#pragma once
// Paired rounds: ductile and its baseline run alternately in one process, so
// that the machine's drift (frequency, other load, page cache) hits both alike.
// The figure that matters is the median of the per-round ratios.

#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

namespace bench {

using clock_type = std::chrono::steady_clock;

inline double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

inline double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

template <class Work>
double time_of(Work&& work) {
  const auto start = clock_type::now();
  work();
  return seconds_since(start);
}

struct comparison {
  std::vector<double> ours, baseline, ratios;
};

// Runs `ours` and `baseline` `rounds` times each, alternating which goes
// first, and prints one line: medians per operation and the paired ratio.
// `label` names what is measured against the baseline (ductile, or another
// way of doing it).
template <class Ours, class Baseline>
comparison compare(const char* name, int rounds, double operations, Ours&& ours, Baseline&& baseline,
                   const char* label = "ductile") {
  comparison result;
  ours();  // warm-up: caches, the background thread, the page cache
  baseline();
  for (int round = 0; round < rounds; ++round) {
    double a, b;
    if (round % 2 == 0) {
      a = time_of(ours);
      b = time_of(baseline);
    } else {
      b = time_of(baseline);
      a = time_of(ours);
    }
    result.ours.push_back(a / operations);
    result.baseline.push_back(b / operations);
    result.ratios.push_back(a / b);
  }
  const double ours_median = median(result.ours), base_median = median(result.baseline);
  const char* unit = ours_median < 1e-3 ? "us" : "ms";
  const double scale = ours_median < 1e-3 ? 1e6 : 1e3;
  std::printf("%-34s %s %9.2f %s  baseline %9.2f %s  ratio %.3f  (min %.3f, max %.3f, %d rounds)\n", name, label,
              ours_median * scale, unit, base_median * scale, unit, median(result.ratios),
              *std::min_element(result.ratios.begin(), result.ratios.end()),
              *std::max_element(result.ratios.begin(), result.ratios.end()), rounds);
  std::fflush(stdout);
  return result;
}

// Resident memory the parent holds while it spawns, every page touched.
class ballast {
 public:
  explicit ballast(std::size_t mib) : size_(mib << 20) {
    if (size_ == 0) return;
    memory_ = static_cast<char*>(std::malloc(size_));
    if (memory_ == nullptr) {
      std::perror("ballast");
      std::exit(1);
    }
    std::memset(memory_, 1, size_);
  }
  ~ballast() { std::free(memory_); }
  ballast(const ballast&) = delete;
  ballast& operator=(const ballast&) = delete;

 private:
  std::size_t size_;
  char* memory_ = nullptr;
};

inline int threads_now() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("Threads:", 0) == 0) return std::atoi(line.c_str() + 8);
  return -1;
}

inline int argument(int argc, char** argv, int index, int fallback) {
  return argc > index ? std::atoi(argv[index]) : fallback;
}

}  // namespace bench
