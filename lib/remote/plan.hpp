#pragma once
// on(host) and on(slurm): everything about a remote subtree is decided when
// on() is called, so a subtree that cannot cross is refused where it was
// written. Lowering turns the plan into one local process, `ssh`
// (remote/session.hpp) or `srun` (cluster/srun_session.hpp), that runs the
// same sh script on the far side.

#include <ductile/cluster.hpp>
#include <ductile/expression.hpp>
#include <ductile/remote.hpp>
#include <string>
#include <variant>

#include "model/tree.hpp"

namespace ductile::detail {

// Where a remote subtree runs: a machine reached by ssh, or a Slurm job step.
// A pool's Slurm jobs carry its tag, so that it can tell its own jobs in
// Slurm's queue from others.
struct slurm_target {
  cluster::slurm cluster;
  std::string pool_tag;  // empty outside a pool
};
using remote_target = std::variant<remote::host, slurm_target>;

struct remote_plan {
  remote_target where;
  std::string script;         // the subtree as the POSIX sh script the far side runs
  std::string first_program;  // the file name of the subtree's first program, for a job's name
};

std::string remote_target_label(const remote_target& where);
std::string remote_label(const remote_plan& plan);

// The subtree as a script for `sh -c SCRIPT ductile TOKEN`. It keeps the
// library's rules for pipes, `then`, unchecked, ok_codes and timeouts (not
// sh's), runs every command through `env` so that no shell builtin, function
// or keyword stands in for a program, and exits 0 when the subtree
// succeeded, else with the code of the process that decided. Throws
// std::invalid_argument for a modifier that has no remote form.
std::string remote_script(const node& subtree);

// e.on(h): the plan, with captures and other local stream targets at the top
// of `e` moved outside the ssh process, and unchecked/ok_codes there kept
// local so that the status the remote side reports keeps its meaning.
expression place_on(const expression& e, const remote_target& where);

}  // namespace ductile::detail
