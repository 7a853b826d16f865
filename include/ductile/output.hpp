#pragma once
/// \file
/// What a finished expression produced: statuses, captured bytes, accounting.

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ductile {

/// How one process ended, in the encoding of `waitpid`'s status word.
class exit_status {
 public:
  constexpr exit_status() noexcept = default;
  /// Wraps a raw `waitpid` status word.
  constexpr explicit exit_status(int raw) noexcept : raw_(raw) {}

  static constexpr exit_status exited(int code) noexcept { return exit_status((code & 0xff) << 8); }
  static constexpr exit_status killed(int signal, bool core_dumped = false) noexcept {
    return exit_status((signal & 0x7f) | (core_dumped ? 0x80 : 0));
  }

  /// True for exit code 0 only.
  constexpr bool success() const noexcept { return raw_ == 0; }
  /// The exit code, or nothing if the process died of a signal.
  constexpr std::optional<int> code() const noexcept {
    if ((raw_ & 0x7f) != 0) return std::nullopt;
    return (raw_ >> 8) & 0xff;
  }
  /// The signal that ended the process, or nothing if it exited.
  constexpr std::optional<int> signal() const noexcept {
    if ((raw_ & 0x7f) == 0) return std::nullopt;
    return raw_ & 0x7f;
  }
  constexpr bool core_dumped() const noexcept { return signal().has_value() && (raw_ & 0x80) != 0; }
  constexpr int raw() const noexcept { return raw_; }

  friend constexpr bool operator==(exit_status a, exit_status b) noexcept { return a.raw_ == b.raw_; }
  friend constexpr bool operator!=(exit_status a, exit_status b) noexcept { return a.raw_ != b.raw_; }

 private:
  int raw_ = 0;
};

/// One process of an expression, as the kernel accounted for it when it was reaped.
struct process_record {
  std::string program;  ///< argv[0] as it was executed
  pid_t pid = 0;
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

/// The result of running an expression.
struct output {
  exit_status status;                     ///< the expression's status, chosen by the pipe/then rules
  std::string stdout_bytes;               ///< everything captured from stdout (empty if not captured)
  std::string stderr_bytes;               ///< everything captured from stderr (empty if not captured)
  std::string combined_bytes;             ///< combined_capture(): both, in the order they were read
  std::vector<process_record> processes;  ///< one per process that ran, in pipeline order
  std::optional<cgroup_usage> cgroup;     ///< set when own_cgroup() was used (summed over its cgroups)
};

/// A readable name for a signal number, such as "SIGKILL"; "signal N" if unknown.
std::string signal_name(int signal);

}  // namespace ductile
