#pragma once
/// \file
/// Clusters run by a workload manager, reached through its own commands:
/// `e.on(s)` runs the subtree `e` as one Slurm job step through `srun`, and
/// `pool(s, n)` keeps at most `n` such jobs submitted (see docs/cluster.md).

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ductile::cluster {

/// What to ask Slurm for. Empty or unset fields leave the cluster's defaults.
struct slurm_options {
  std::string partition;                           ///< `-p`; empty: the cluster's default
  std::string account, qos;                        ///< `-A`, `-q`; empty: unset
  unsigned cpus_per_task = 1;                      ///< `-c`
  std::optional<std::uint64_t> memory_bytes;       ///< `--mem` (per node), rounded up to whole KiB
  std::optional<std::chrono::seconds> time_limit;  ///< `-t`, at least one second
  std::string job_name;                            ///< `-J`; empty: the first program's name
  /// Further srun options, passed as given after ours (so they win), except
  /// `--comment`, which ductile sets last: it finds the job in squeue by it.
  std::vector<std::string> extra;
};

/// A Slurm cluster, as the `srun`, `squeue` and `scancel` in PATH (and
/// SLURM_CONF) reach it. Copies share nothing mutable.
class slurm {
 public:
  /// Throws std::invalid_argument for a partition, account, qos or job name
  /// that srun would read as an option (a leading '-'), 0 CPUs, 0 bytes of
  /// memory or a time limit under one second.
  explicit slurm(slurm_options options = {});
  const slurm_options& options() const noexcept { return *options_; }
  /// The cluster as messages name it: "slurm", "slurm partition debug".
  std::string label() const;

 private:
  std::shared_ptr<const slurm_options> options_;
};

}  // namespace ductile::cluster
