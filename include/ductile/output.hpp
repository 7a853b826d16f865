#pragma once
/// \file
/// What a finished expression produced: statuses, captured bytes, accounting.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "native.hpp"

namespace ductile {

/// How one process ended: an exit code, or on POSIX the signal that killed it.
class exit_status {
 public:
#ifdef _WIN32
  using code_type = std::uint32_t;  ///< GetExitCodeProcess's full 32 bits (0xC0000005 and the like)
#else
  using code_type = int;  ///< 0 to 255
#endif

  constexpr exit_status() noexcept = default;
#ifndef _WIN32
  /// Wraps a raw `waitpid` status word.
  constexpr explicit exit_status(int raw) noexcept
      : code_((raw & 0x7f) == 0 ? (raw >> 8) & 0xff : 0),
        signal_((raw & 0x7f) == 0 ? 0 : raw & 0x7f),
        core_dumped_((raw & 0x7f) != 0 && (raw & 0x80) != 0) {}
#endif

#ifdef _WIN32
  static constexpr exit_status exited(code_type code) noexcept { return exit_status(code, 0, false); }
#else
  static constexpr exit_status exited(int code) noexcept { return exit_status(code & 0xff, 0, false); }
#endif
  static constexpr exit_status killed(int signal, bool core_dumped = false) noexcept {
    return exit_status(0, signal & 0x7f, core_dumped);
  }

  /// True for exit code 0 only.
  constexpr bool success() const noexcept { return signal_ == 0 && code_ == 0; }
  /// The exit code, or nothing if the process died of a signal.
  constexpr std::optional<code_type> code() const noexcept {
    if (signal_ != 0) return std::nullopt;
    return code_;
  }
  /// The signal that ended the process, or nothing if it exited (always nothing on Windows).
  constexpr std::optional<int> signal() const noexcept {
    if (signal_ == 0) return std::nullopt;
    return signal_;
  }
  constexpr bool core_dumped() const noexcept { return signal_ != 0 && core_dumped_; }
#ifndef _WIN32
  /// The status in `waitpid`'s encoding.
  constexpr int raw() const noexcept {
    return signal_ != 0 ? signal_ | (core_dumped_ ? 0x80 : 0) : static_cast<int>((code_ & 0xff) << 8);
  }
#endif

  friend constexpr bool operator==(exit_status a, exit_status b) noexcept {
    return a.code_ == b.code_ && a.signal_ == b.signal_ && a.core_dumped_ == b.core_dumped_;
  }
  friend constexpr bool operator!=(exit_status a, exit_status b) noexcept { return !(a == b); }

 private:
  constexpr exit_status(code_type code, int signal, bool core_dumped) noexcept
      : code_(code), signal_(signal), core_dumped_(core_dumped) {}

  code_type code_ = 0;
  int signal_ = 0;  // 0: it exited
  bool core_dumped_ = false;
};

/// One process of an expression, as the kernel accounted for it when it was reaped.
struct process_record {
  std::string program;  ///< argv[0] as it was executed
  process_id pid = 0;
  exit_status status;
  std::chrono::microseconds user_time{0};
  std::chrono::microseconds system_time{0};
  std::size_t max_rss_kib = 0;  ///< peak resident set size
};

/// What an own_cgroup() subtree used, read from its cgroup when it ended.
struct cgroup_usage {
  std::chrono::microseconds cpu_time{0};           ///< cpu.stat usage_usec of the whole tree
  std::optional<std::uint64_t> memory_peak_bytes;  ///< memory.peak, where the memory controller is enabled
};

/// What a Slurm job used, as its accounting (`sacct`) reported it.
struct job_usage {
  std::chrono::microseconds cpu_time{0};           ///< TotalCPU: user and system time of every step
  std::optional<std::uint64_t> memory_peak_bytes;  ///< the largest MaxRSS of its steps, where reported
};

/// The result of running an expression.
struct output {
  exit_status status;                     ///< the expression's status, chosen by the pipe/then rules
  std::string stdout_bytes;               ///< everything captured from stdout (empty if not captured)
  std::string stderr_bytes;               ///< everything captured from stderr (empty if not captured)
  std::string combined_bytes;             ///< combined_capture(): both, in the order they were read
  std::vector<process_record> processes;  ///< one per process that ran, in pipeline order
  std::optional<cgroup_usage> cgroup;     ///< set when own_cgroup() was used (summed over its cgroups)
  /// on(cluster::slurm): the Slurm job id ("1234"); several on(slurm) parts
  /// give their ids in pipeline order, joined by ','. Unset when no job was made.
  std::optional<std::string> cluster_job;
  /// on(cluster::slurm): what the jobs used, summed, where accounting answers.
  std::optional<job_usage> cluster_usage;
};

/// A readable name for a signal number, such as "SIGKILL"; "signal N" if unknown.
std::string signal_name(int signal);

}  // namespace ductile
