#pragma once
// One on(slurm) subtree at run time: the local `srun` process's command line,
// and what srun does not tell: the job's id, found in squeue by the comment
// the job was given; why Slurm ended or refused it; and a kill that srun
// cannot forward (SIGKILL ends srun alone), carried out by scancel.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "remote/far_side.hpp"

namespace ductile::detail {

class srun_session final : public far_side {
 public:
  // srun forwards SIGTERM, SIGINT (--quit-on-interrupt) and the others to
  // the step, and cancels a job still pending; SIGKILL, which srun cannot
  // catch, becomes `scancel` of the job, pending or running.
  void signal(int signal) const noexcept override;
  // The job's id and usage, Slurm's reason for ending it, or, when srun
  // failed before Slurm made a job, Slurm's words for the refusal.
  far_side_report ended(const std::string& command, const exit_status& status, bool signalled) const override;

  std::string comment;               // "ductile-" and the run's token: finds the job in squeue
  std::string label;                 // the cluster, for messages
  std::vector<std::string> options;  // srun and its options, without the command
};

// Slurm's scripts cross as one argument up to this size, and as environment
// variables of at most this size each beyond it (Linux takes at most 128 KiB
// in one string of either).
inline constexpr std::size_t longest_srun_word = 100 * 1024;

// The argv of the srun process that runs `plan`, its session, and the
// environment variables that carry a long script.
far_side_launch open_srun_session(const remote_plan& plan, const slurm_target& where, argument_list& argv);

// squeue's listing of this user's jobs (squeue_job_format), one query;
// nullopt if squeue cannot be run or fails.
std::optional<std::string> slurm_listing();

}  // namespace ductile::detail
