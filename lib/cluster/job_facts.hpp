#pragma once
// What Slurm's commands say, read into values, and what they are told:
// srun's options for a job, a job found in squeue's listing, its accounting
// in sacct's. Pure functions of their input.

#include <chrono>
#include <cstdint>
#include <ductile/cluster.hpp>
#include <ductile/output.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ductile::detail {

// squeue's columns for a job: -o '%k|%i|%T|%r' (comment, id, state, reason).
inline constexpr const char* squeue_job_format = "%k|%i|%T|%r";

struct slurm_job {
  std::string id;
  std::string state;   // PENDING, RUNNING, COMPLETED, TIMEOUT, ...
  std::string reason;  // None, TimeLimit, NodeDown, ...
};

// The job whose comment is `comment` in squeue's listing, if any.
std::optional<slurm_job> find_job(std::string_view listing, std::string_view comment);

// How many jobs of the listing are PENDING with a comment that starts with `prefix`.
std::size_t count_pending_jobs(std::string_view listing, std::string_view prefix);

// srun's options, before the command, for a job asking for `o`: the
// caller's extra ones after ours, and then the comment that finds the job.
std::vector<std::string> srun_options(const cluster::slurm_options& o, const std::string& job_name,
                                      const std::string& comment);

// -t's text: "H:MM:SS", with the hours unbounded.
std::string slurm_time_text(std::chrono::seconds limit);

// Why a job that ended in `job.state` ended, for a status_error: Slurm's
// state and reason and what they mean, such as "Slurm job 12 ended in
// TIMEOUT (reason TimeLimit): it reached its time limit". Empty for the
// states a job's own processes lead to (COMPLETED, FAILED) and for live ones.
std::string slurm_end_note(const slurm_job& job);

// Slurm's own words in what `srun --test-only` printed: its error lines
// without the "srun: error: " prefix, joined by "; ".
std::string slurm_refusal_words(std::string_view printed);

// sacct -n -P -o TotalCPU,MaxRSS: the job's line and its steps'. TotalCPU
// comes from the job's line; the peak is the largest MaxRSS of any line.
std::optional<job_usage> parse_sacct_usage(std::string_view text);

// sacct's durations: [DD-][HH:]MM:SS[.fff].
std::optional<std::chrono::microseconds> parse_slurm_duration(std::string_view text);

// sacct's sizes: a number with an optional K, M, G, T or P suffix (powers of 1024).
std::optional<std::uint64_t> parse_slurm_size(std::string_view text);

}  // namespace ductile::detail
