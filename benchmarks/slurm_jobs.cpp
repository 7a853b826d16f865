// slurm_jobs [N] [ROUNDS] [IN_FLIGHT]: starts the tests' single-node Slurm
// cluster (tests/cluster/slurm_cluster.hpp; needs root), then, in paired
// rounds, `cmd("true").on(slurm).run()` against the same job run by hand
// (`srun -Q true`); a pool of N short jobs (`true`) with IN_FLIGHT (2, the
// node's CPUs) submitted at once against a bash loop of `srun -Q true &`
// that keeps as many in flight; and that loop against the same loop of
// `sbatch --wait` (how a pool could submit instead: batch jobs whose output
// goes to a file on the node). More in flight than the node has CPUs
// measures Slurm's scheduling passes (the test cluster's run once a
// second), the same for every contender.
#include <chrono>
#include <cstdio>
#include <ductile/ductile.hpp>
#include <string>
#include <vector>

#include "cluster/slurm_cluster.hpp"
#include "paired.hpp"

using namespace ductile;

int main(int argc, char** argv) {
  const int n = bench::argument(argc, argv, 1, 100);
  const int rounds = bench::argument(argc, argv, 2, 5);
  const int in_flight = bench::argument(argc, argv, 3, 2);
  if (const auto missing = cluster_test::why_no_cluster()) {
    std::fprintf(stderr, "slurm_jobs: no test cluster here: %s\n", missing->c_str());
    return 2;
  }
  cluster_test::slurm_cluster cluster;
  const cluster::slurm slurm;
  const int singles = 20;
  std::printf("%d rounds; one job, per job:\n", rounds);
  bench::compare(
      "on(slurm) true vs srun true", rounds, singles,
      [&] {
        for (int i = 0; i < singles; ++i) cmd("true").on(slurm).run();
      },
      [&] {
        for (int i = 0; i < singles; ++i) cmd("srun", "-Q", "true").run();
      });
  const auto loop_of = [](const char* submit) {
    // Every job must succeed, as the pool's must: a failure ends the loop with 1.
    return std::string("n=$1 k=$2; for i in $(seq \"$n\"); do ") + submit +
           " & while [ \"$(jobs -rp | wc -l)\" -ge \"$k\" ]; do wait -n || exit 1; done; done;"
           " for p in $(jobs -p); do wait \"$p\" || exit 1; done";
  };
  const std::string srun_loop = loop_of("srun -Q true");
  const std::string sbatch_loop = loop_of("sbatch -Q --wait -o /dev/null --wrap true");
  std::printf("a pool of %d jobs, %d in flight, per job:\n", n, in_flight);
  bench::compare(
      "pool(slurm) vs bash srun & loop", rounds, n,
      [&] {
        pool jobs(slurm, static_cast<std::size_t>(in_flight));
        std::vector<handle> submitted;
        for (int i = 0; i < n; ++i) submitted.push_back(jobs.submit(cmd("true")));
        jobs.wait_all();
        for (auto& job : submitted) job.wait();  // throws, ending the benchmark, if a job failed
      },
      [&] { cmd("bash", "-c", srun_loop, "bash", n, in_flight).run(); });
  bench::compare(
      "bash sbatch --wait loop vs srun loop", rounds, n,
      [&] { cmd("bash", "-c", sbatch_loop, "bash", n, in_flight).run(); },
      [&] { cmd("bash", "-c", srun_loop, "bash", n, in_flight).run(); }, "sbatch");
  return 0;
}
