// The srun side of an on(slurm) run: the command line, the lookups in
// squeue and sacct when srun has exited, and scancel for a kill.

#include "cluster/srun_session.hpp"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <ductile/format.hpp>

#include "cluster/job_facts.hpp"
#include "model/failure.hpp"
#include "os/helper_process.hpp"
#include "remote/session.hpp"

namespace ductile::detail {

// Cancels the job whose comment is $1 among the jobs of user $2: srun may
// have been killed before Slurm listed the job, so it looks for a while.
inline constexpr const char* slurm_canceller_script =
    "i=0\n"
    "while [ $i -lt 50 ]; do\n"
    "  j=$(squeue -h --states=all -u \"$2\" -o '%k|%i' 2>/dev/null |"
    " while IFS='|' read -r k id; do [ \"$k\" = \"$1\" ] && { echo \"$id\"; break; }; done)\n"
    "  [ -n \"$j\" ] && { scancel -Q \"$j\"; exit 0; }\n"
    "  sleep 0.1 2>/dev/null || sleep 1; i=$((i+1))\n"
    "done\n";

// Reads back a script too long for one argument from the variables that
// carried it, and forgets them, so that the subtree's processes do not get them.
inline constexpr const char* slurm_script_runner =
    "ductile_script= ductile_i=0\n"
    "while eval \"[ -n \\\"\\${DUCTILE_SCRIPT_PART_$ductile_i+x}\\\" ]\"; do\n"
    "  eval \"ductile_script=\\$ductile_script\\$DUCTILE_SCRIPT_PART_$ductile_i; unset "
    "DUCTILE_SCRIPT_PART_$ductile_i\"\n"
    "  ductile_i=$((ductile_i+1))\n"
    "done\n"
    "[ -n \"$ductile_script\" ] || { echo \"ductile: the script did not reach the node"
    " (srun --export must pass DUCTILE_SCRIPT_PART_*)\" >&2; exit 126; }\n"
    "eval \"$ductile_script\"\n";

namespace {

std::string user_number() {
#ifndef _WIN32
  return std::to_string(::getuid());
#else
  return {};
#endif
}

// Whether sacct answers here: asked once per process, as a cluster without
// accounting says so the same way every time.
std::atomic<int> accounting_answers{-1};

std::optional<job_usage> job_usage_of(const std::string& job) {
  if (accounting_answers.load() == 0) return std::nullopt;
  const std::vector<const char*> argv{"sacct", "-n", "-P", "-o", "TotalCPU,MaxRSS", "-j", job.c_str(), nullptr};
  std::string printed;
  int code = -1;
  if (sys::run_helper_for_output(argv, printed, code) || code != 0) {
    accounting_answers.store(0);
    return std::nullopt;
  }
  accounting_answers.store(1);
  return parse_sacct_usage(printed);
}

}  // namespace

DUCTILE_INLINE std::optional<std::string> slurm_listing() {
  const std::string user = user_number();
  const std::vector<const char*> argv{"squeue",     "-h", "--states=all",    "-u",
                                      user.c_str(), "-o", squeue_job_format, nullptr};
  std::string printed;
  int code = -1;
  if (sys::run_helper_for_output(argv, printed, code) || code != 0) return std::nullopt;
  return printed;
}

DUCTILE_INLINE void srun_session::signal(int signal) const noexcept {
#ifndef _WIN32
  if (signal != SIGKILL) return;
  try {
    const std::string user = user_number();
    // sh starts the canceller in the background and returns: nobody waits.
    const std::vector<const char*> argv{
        "sh", "-c", "\"$@\" &", "sh", "sh", "-c", slurm_canceller_script, "sh", comment.c_str(), user.c_str(), nullptr};
    (void)sys::run_helper(argv);
  } catch (...) {
  }
#else
  (void)signal;
#endif
}

DUCTILE_INLINE far_side_report srun_session::ended(const std::string& command, const exit_status& status,
                                                   bool signalled) const {
  far_side_report report;
  const auto listing = slurm_listing();
  const auto job = listing ? find_job(*listing, comment) : std::nullopt;
  if (job) {
    report.job = job->id;
    if (!status.success() && !signalled) report.note = slurm_end_note(*job);
    report.usage = job_usage_of(job->id);
    return report;
  }
  // srun failed before Slurm made a job (srun -Q -Q said nothing): it is
  // asked again, aloud, for a job that would run nothing.
  if (signalled || !status.code() || *status.code() == 0 || !listing) return report;
  std::vector<const char*> argv;
  for (const auto& word : options)
    if (word != "-Q") argv.push_back(word.c_str());
  for (const char* word : {"--test-only", "true"}) argv.push_back(word);
  argv.push_back(nullptr);
  std::string printed;
  int code = -1;
  if (sys::run_helper_for_output(argv, printed, code) || code == 0) return report;  // a job was made and forgotten
  try {
    throw_spawn_error(command, "srun", fmt::format("{} refused the job: {}", label, slurm_refusal_words(printed)),
                      std::error_code());
  } catch (...) {
    report.failure = std::current_exception();
  }
  return report;
}

DUCTILE_INLINE far_side_launch open_srun_session(const remote_plan& plan, const slurm_target& where,
                                                 argument_list& argv) {
  auto session = std::make_shared<srun_session>();
  const std::string token = where.pool_tag.empty() ? new_remote_token() : where.pool_tag + "-" + new_remote_token();
  session->comment = "ductile-" + token;
  session->label = where.cluster.label();
  session->options = srun_options(where.cluster.options(), plan.first_program, session->comment);
  far_side_launch launch;
  argv.assign(session->options.begin(), session->options.end());
  argv.push_back("--");
  argv.push_back("sh");
  argv.push_back("-c");
  if (plan.script.size() <= longest_srun_word) {
    argv.push_back(plan.script);
  } else {
    argv.push_back(slurm_script_runner);
    for (std::size_t at = 0, part = 0; at < plan.script.size(); at += longest_srun_word, ++part)
      launch.environment.emplace_back(fmt::format("DUCTILE_SCRIPT_PART_{}", part),
                                      plan.script.substr(at, longest_srun_word));
  }
  argv.push_back("ductile");
  argv.push_back(token);
  launch.side = std::move(session);
  return launch;
}

}  // namespace ductile::detail
