// A supervisor daemon: it becomes a daemon (or, under systemd, tells systemd
// it is ready), keeps one worker running per line of its configuration file
// (each line a shell command, restarted when it ends), samples the workers'
// processes for a health check and writes their metrics for Prometheus
// (node_exporter's textfile collector), reloads its configuration on SIGHUP,
// and on SIGTERM drains: it tells systemd it is stopping, asks every worker
// to end, waits for them, and exits with its pid file removed.
//
// usage: daemon --config FILE --metrics FILE [--pid-file FILE] [--log FILE]
//               [--interval-ms N]
//
// examples/daemon.service runs it under systemd (Type=notify, WatchdogSec).

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ductile/daemon.hpp>
#include <ductile/ductile.hpp>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;

struct settings {
  std::string config, metrics, pid_file, log;
  std::chrono::milliseconds interval = 1000ms;
};

std::vector<std::string> read_commands(const std::string& path) {
  std::vector<std::string> commands;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] != '#') commands.push_back(line);
  return commands;
}

struct worker {
  std::string command;
  ductile::handle running;
  unsigned restarts = 0;
};

class supervisor {
 public:
  explicit supervisor(const settings& s) : settings_(s), jobs_(64, ductile::failure_policy::finish_running) {}

  void load() {
    stop_all();
    workers_.clear();
    for (const auto& command : read_commands(settings_.config)) workers_.push_back(worker{command, start(command), 0});
    std::printf("running %zu workers\n", workers_.size());
    std::fflush(stdout);
  }

  // A worker that ended is started again.
  void restart_ended() {
    for (auto& w : workers_)
      if (w.running.try_wait() != nullptr) {
        w.running = start(w.command);
        ++w.restarts;
      }
  }

  // Each worker's processes, its children included, as Prometheus text,
  // written to a temporary file renamed over the old one.
  void write_metrics() {
    std::ostringstream out;
    out << "# HELP supervisor_worker_up Whether the worker runs.\n# TYPE supervisor_worker_up gauge\n";
    std::ostringstream memory, cpu, restarts, pids;
    for (std::size_t i = 0; i < workers_.size(); ++i) {
      const auto samples = workers_[i].running.processes();
      std::uint64_t resident = 0;
      double seconds = 0;
      for (const auto& p : samples) {
        resident += p.resident_bytes;
        seconds += std::chrono::duration<double>(p.cpu_time).count();
      }
      const std::string label = "{worker=\"" + std::to_string(i) + "\"}";
      out << "supervisor_worker_up" << label << " " << (samples.empty() ? 0 : 1) << "\n";
      memory << "supervisor_worker_resident_bytes" << label << " " << resident << "\n";
      cpu << "supervisor_worker_cpu_seconds_total" << label << " " << seconds << "\n";
      restarts << "supervisor_worker_restarts_total" << label << " " << workers_[i].restarts << "\n";
      for (const auto pid : workers_[i].running.pids())
        pids << "supervisor_worker_process{worker=\"" << i << "\",pid=\"" << pid << "\"} 1\n";
    }
    out << "# TYPE supervisor_worker_resident_bytes gauge\n"
        << memory.str() << "# TYPE supervisor_worker_cpu_seconds_total counter\n"
        << cpu.str() << "# TYPE supervisor_worker_restarts_total counter\n"
        << restarts.str() << "# TYPE supervisor_worker_process gauge\n"
        << pids.str();
    const std::string temporary = settings_.metrics + ".tmp";
    std::ofstream(temporary) << out.str();
    std::rename(temporary.c_str(), settings_.metrics.c_str());
  }

  // Asks every worker to end (SIGTERM), then waits for them.
  void stop_all() {
    for (auto& w : workers_) w.running.send_signal(SIGTERM);
    for (auto& w : workers_) {
      try {
        (void)w.running.wait();
      } catch (const ductile::error&) {
        // Ended by the signal, as asked; the pool holds nothing more of it.
      }
    }
  }

 private:
  ductile::handle start(const std::string& command) {
    // A process group of its own: SIGTERM reaches the worker's children too.
    return jobs_.submit(ductile::sh(command).new_process_group().unchecked());
  }

  settings settings_;
  ductile::pool jobs_;
  std::vector<worker> workers_;
};

settings parse(int argc, char** argv) {
  settings s;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--config") s.config = value;
    if (flag == "--metrics") s.metrics = value;
    if (flag == "--pid-file") s.pid_file = value;
    if (flag == "--log") s.log = value;
    if (flag == "--interval-ms") s.interval = std::chrono::milliseconds(std::atoi(value.c_str()));
  }
  if (s.config.empty() || s.metrics.empty()) {
    std::fprintf(stderr,
                 "usage: daemon --config FILE --metrics FILE [--pid-file FILE] [--log FILE] [--interval-ms N]\n");
    std::exit(2);
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  const settings s = parse(argc, argv);
  // Before become(): no signal can find the daemon without its loop.
  ductile::daemon::signals signals({SIGTERM, SIGINT, SIGHUP});
  ductile::daemon::options options;
  options.pid_file = s.pid_file;
  options.stdout_path = options.stderr_path = s.log;
  ductile::daemon::become(options);

  supervisor workers(s);
  workers.load();
  ductile::daemon::ready();
  // Under a systemd watchdog, a ping at least twice per interval.
  auto tick = s.interval;
  if (const auto watched = ductile::daemon::watchdog_interval())
    tick = std::min(tick, std::chrono::duration_cast<std::chrono::milliseconds>(*watched / 2));
  for (;;) {
    workers.restart_ended();
    workers.write_metrics();
    ductile::daemon::watchdog();
    const auto signal = signals.wait_for(tick);
    if (!signal) continue;
    if (*signal == SIGHUP) {
      std::printf("reloading\n");
      workers.load();
      continue;
    }
    std::printf("stopping\n");
    std::fflush(stdout);
    ductile::daemon::stopping();
    workers.stop_all();
    std::printf("stopped\n");
    return 0;
  }
}
