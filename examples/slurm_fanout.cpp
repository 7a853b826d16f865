// slurm_fanout [-p PARTITION] [-j IN_FLIGHT] FILE...: counts the lines of
// each file (`wc -l`) as a Slurm job of its own, at most IN_FLIGHT (8)
// submitted at once, with a progress line on stderr that counts the jobs
// Slurm holds pending as queued. Prints one line per file, with its job id,
// and exits 1 if any job failed. The nodes see the files at the same paths
// (a shared file system, as clusters have).
#include <cstdio>
#include <cstdlib>
#include <ductile/ductile.hpp>
#include <string>
#include <vector>

using namespace ductile;

int main(int argc, char** argv) {
  cluster::slurm_options options;
  std::size_t in_flight = 8;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "-p" && i + 1 < argc) {
      options.partition = argv[++i];
    } else if (arg == "-j" && i + 1 < argc) {
      in_flight = static_cast<std::size_t>(std::strtoul(argv[++i], nullptr, 10));
    } else {
      files.push_back(arg);
    }
  }
  if (files.empty() || in_flight == 0) {
    std::fprintf(stderr, "usage: slurm_fanout [-p PARTITION] [-j IN_FLIGHT] FILE...\n");
    return 2;
  }
  pool jobs(cluster::slurm(options), in_flight);
  jobs.on_progress([](const progress& p) {
    std::fprintf(stderr, "\r%zu queued, %zu running, %zu done, %zu failed ", p.queued, p.running, p.done, p.failed);
  });
  std::vector<handle> counted;
  for (const auto& file : files) counted.push_back(jobs.submit(cmd("wc", "-l", file).stdout_capture()));
  jobs.wait_all();
  std::fprintf(stderr, "\n");
  int failures = 0;
  for (std::size_t i = 0; i < files.size(); ++i) {
    try {
      const output& done = counted[i].wait();
      std::string lines = done.stdout_bytes.substr(0, done.stdout_bytes.find(' '));
      std::printf("%-40s %10s lines   job %s\n", files[i].c_str(), lines.c_str(),
                  done.cluster_job.value_or("?").c_str());
    } catch (const error& e) {
      ++failures;
      std::printf("%-40s FAILED: %s\n", files[i].c_str(), e.what());
    }
  }
  return failures == 0 ? 0 : 1;
}
