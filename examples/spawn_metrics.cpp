// Counts spawns and times them with an observer, and prints the result in the
// Prometheus text format, the way a service would expose its own metrics.
// ductile depends on no metrics library: the observer is the whole interface.
//
// usage: spawn_metrics

#include <chrono>
#include <cstdio>
#include <ductile/ductile.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace {

class spawn_metrics : public ductile::observer {
 public:
  void spawned(const ductile::spawn_event&) override {
    std::lock_guard<std::mutex> lock(mutex_);
    ++spawned_;
  }
  void exited(const ductile::exit_event& e) override {
    std::lock_guard<std::mutex> lock(mutex_);
    const std::string program = e.command.substr(0, e.command.find(' '));
    auto& entry = by_program_[program];
    ++entry.count;
    entry.failures += e.status.success() ? 0 : 1;
    entry.seconds += std::chrono::duration<double>(e.duration).count();
  }
  void print() const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::printf("# TYPE ductile_spawns_total counter\nductile_spawns_total %d\n", spawned_);
    std::printf("# TYPE ductile_process_seconds_total counter\n");
    for (const auto& [program, entry] : by_program_)
      std::printf("ductile_process_seconds_total{program=\"%s\"} %.6f\n", program.c_str(), entry.seconds);
    std::printf("# TYPE ductile_process_failures_total counter\n");
    for (const auto& [program, entry] : by_program_)
      std::printf("ductile_process_failures_total{program=\"%s\"} %d\n", program.c_str(), entry.failures);
  }

 private:
  struct per_program {
    int count = 0;
    int failures = 0;
    double seconds = 0;
  };
  mutable std::mutex mutex_;
  int spawned_ = 0;
  std::map<std::string, per_program> by_program_;
};

}  // namespace

int main() {
  using namespace ductile;
  auto metrics = std::make_shared<spawn_metrics>();
  set_observer(metrics);
  (cmd("seq", 1, 1000) | cmd("sort", "-n", "-r") | cmd("head", "-n", 3)).stdout_null().run();
  for (int i = 0; i < 5; ++i) cmd("sleep", 0.01).run();
  sh("exit 3").unchecked().run();
  pool workers(4);
  for (int i = 0; i < 8; ++i) (void)workers.submit(cmd("true")).detach();
  workers.wait_all();
  set_observer(nullptr);
  metrics->print();
  return 0;
}
