// cluster::slurm: what a job asks Slurm for, checked where it is written.

#include <fmt/format.h>

#include <ductile/cluster.hpp>
#include <stdexcept>

#include "common.hpp"

namespace ductile::cluster {

DUCTILE_INLINE slurm::slurm(slurm_options options) {
  // srun would take these as options of its own.
  const std::pair<const char*, const std::string*> words[] = {{"partition", &options.partition},
                                                              {"account", &options.account},
                                                              {"qos", &options.qos},
                                                              {"job name", &options.job_name}};
  for (const auto& [what, value] : words)
    if (!value->empty() && value->front() == '-')
      throw std::invalid_argument(fmt::format("cluster::slurm: the {} {:?} starts with '-'", what, *value));
  if (options.cpus_per_task == 0) throw std::invalid_argument("cluster::slurm: cpus_per_task must be at least 1");
  if (options.memory_bytes && *options.memory_bytes == 0)
    throw std::invalid_argument("cluster::slurm: memory_bytes must be more than 0 (unset means the cluster's default)");
  if (options.time_limit && options.time_limit->count() < 1)
    throw std::invalid_argument("cluster::slurm: time_limit must be at least one second");
  options_ = std::make_shared<const slurm_options>(std::move(options));
}

DUCTILE_INLINE std::string slurm::label() const {
  return options_->partition.empty() ? std::string("slurm") : "slurm partition " + options_->partition;
}

}  // namespace ductile::cluster
