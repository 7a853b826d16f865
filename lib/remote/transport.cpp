// Which local process carries an on() subtree: ssh to a host, srun to Slurm.

#include "cluster/srun_session.hpp"
#include "remote/far_side.hpp"
#include "remote/session.hpp"

namespace ductile::detail {

DUCTILE_INLINE far_side_launch open_far_side(const remote_plan& plan, argument_list& argv) {
  if (const auto* cluster = std::get_if<slurm_target>(&plan.where)) return open_srun_session(plan, *cluster, argv);
  far_side_launch launch;
  launch.side = open_ssh_session(plan, std::get<remote::host>(plan.where), argv);
  return launch;
}

}  // namespace ductile::detail
