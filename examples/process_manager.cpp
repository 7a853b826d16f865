// A small process manager: a pool runs worker commands, an observer counts and
// times every spawn, and a health check samples the CPU and memory of each
// running job's processes (its children included). Every interval the metrics
// are written to a file in the Prometheus text format, atomically (a temporary
// file renamed over the old one), which is how node_exporter's textfile
// collector expects to find them.
//
// usage: process_manager METRICS_FILE [WORKERS=3] [JOBS=8] [INTERVAL_MS=500]

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ductile/ductile.hpp>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;

// The spawn duration histogram's upper bounds, in seconds.
constexpr std::array<double, 8> bucket_bounds = {0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};

class spawn_metrics : public ductile::observer {
 public:
  void spawned(const ductile::spawn_event&) override {
    std::lock_guard<std::mutex> lock(mutex_);
    ++spawned_;
    ++active_;
  }
  void exited(const ductile::exit_event& e) override {
    std::lock_guard<std::mutex> lock(mutex_);
    --active_;
    const double seconds = std::chrono::duration<double>(e.duration).count();
    for (std::size_t i = 0; i < bucket_bounds.size(); ++i)
      if (seconds <= bucket_bounds[i]) ++buckets_[i];
    ++count_;
    sum_ += seconds;
  }
  void write(std::ostream& out) {
    std::lock_guard<std::mutex> lock(mutex_);
    out << "# HELP process_manager_spawned_total Processes started.\n"
        << "# TYPE process_manager_spawned_total counter\n"
        << "process_manager_spawned_total " << spawned_ << "\n"
        << "# HELP process_manager_active Processes running now.\n"
        << "# TYPE process_manager_active gauge\n"
        << "process_manager_active " << active_ << "\n"
        << "# HELP process_manager_spawn_duration_seconds Time from spawn to exit.\n"
        << "# TYPE process_manager_spawn_duration_seconds histogram\n";
    for (std::size_t i = 0; i < bucket_bounds.size(); ++i)
      out << "process_manager_spawn_duration_seconds_bucket{le=\"" << bucket_bounds[i] << "\"} " << buckets_[i] << "\n";
    out << "process_manager_spawn_duration_seconds_bucket{le=\"+Inf\"} " << count_ << "\n"
        << "process_manager_spawn_duration_seconds_sum " << sum_ << "\n"
        << "process_manager_spawn_duration_seconds_count " << count_ << "\n";
  }

 private:
  std::mutex mutex_;
  long spawned_ = 0, active_ = 0, count_ = 0;
  std::array<long, bucket_bounds.size()> buckets_{};
  double sum_ = 0;
};

// Writes `text` to `path` so that a reader sees the old file or the new one, never half of one.
void write_atomically(const std::string& path, const std::string& text) {
  const std::string partial = path + ".partial";
  {
    std::ofstream out(partial, std::ios::trunc);
    out << text;
  }
  std::rename(partial.c_str(), path.c_str());
}

// A worker: even jobs compute for a while, odd ones wait on a child of their own.
ductile::expression worker(int job) {
  if (job % 2 == 0) return ductile::cmd("sh", "-c", "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done");
  return ductile::cmd("sh", "-c", "sleep 2; echo done");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: process_manager METRICS_FILE [WORKERS] [JOBS] [INTERVAL_MS]\n");
    return 2;
  }
  const std::string metrics_file = argv[1];
  const int workers = argc > 2 ? std::atoi(argv[2]) : 3;
  const int jobs = argc > 3 ? std::atoi(argv[3]) : 8;
  const auto interval = std::chrono::milliseconds(argc > 4 ? std::atoi(argv[4]) : 500);

  auto metrics = std::make_shared<spawn_metrics>();
  ductile::set_observer(metrics);
  ductile::pool pool(static_cast<std::size_t>(workers));
  std::vector<ductile::handle> running;
  for (int job = 0; job < jobs; ++job) running.push_back(pool.submit(worker(job).stdout_null()));

  const auto start = std::chrono::steady_clock::now();
  for (;;) {
    // The health check: each job's processes, its children included.
    std::ostringstream text;
    metrics->write(text);
    text << "# HELP process_manager_child_cpu_percent CPU of one process of a job, % of one CPU.\n"
         << "# TYPE process_manager_child_cpu_percent gauge\n";
    std::ostringstream memory;
    memory << "# HELP process_manager_child_resident_bytes Resident memory of one process of a job.\n"
           << "# TYPE process_manager_child_resident_bytes gauge\n";
    double cpu = 0;
    std::uint64_t resident = 0;
    int finished = 0;
    for (std::size_t job = 0; job < running.size(); ++job) {
      if (running[job].try_wait() != nullptr) {
        ++finished;
        continue;
      }
      for (const auto& p : running[job].processes()) {
        const std::string labels =
            "{job=\"" + std::to_string(job) + "\",pid=\"" + std::to_string(p.pid) + "\",name=\"" + p.name + "\"}";
        text << "process_manager_child_cpu_percent" << labels << " " << p.cpu_percent << "\n";
        memory << "process_manager_child_resident_bytes" << labels << " " << p.resident_bytes << "\n";
        cpu += p.cpu_percent;
        resident += p.resident_bytes;
      }
    }
    write_atomically(metrics_file, text.str() + memory.str());
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("%5.1f s: %d of %d jobs finished, children using %.0f%% CPU and %.1f MiB\n", elapsed, finished, jobs,
                cpu, static_cast<double>(resident) / (1 << 20));
    std::fflush(stdout);
    if (finished == jobs) break;
    std::this_thread::sleep_for(interval);
  }
  ductile::set_observer(nullptr);
  std::printf("metrics in %s\n", metrics_file.c_str());
  return 0;
}
