// Reading and writing the words of Slurm's commands.

#include "cluster/job_facts.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "common.hpp"

namespace ductile::detail {

namespace {

// The lines of `text`, without their '\n' (and a '\r' before it).
std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const auto end = text.find('\n');
    std::string_view line = text.substr(0, end);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return lines;
}

std::vector<std::string_view> fields_of(std::string_view line, char separator) {
  std::vector<std::string_view> fields;
  for (;;) {
    const auto end = line.find(separator);
    fields.push_back(line.substr(0, end));
    if (end == std::string_view::npos) return fields;
    line.remove_prefix(end + 1);
  }
}

std::optional<std::uint64_t> parse_digits(std::string_view text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  std::uint64_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return value;
}

}  // namespace

DUCTILE_INLINE std::optional<slurm_job> find_job(std::string_view listing, std::string_view comment) {
  for (const auto line : lines_of(listing)) {
    // A comment may hold '|' itself: the last three fields are Slurm's.
    if (std::count(line.begin(), line.end(), '|') < 3) continue;
    const auto reason_at = line.rfind('|');
    const auto state_at = line.rfind('|', reason_at - 1);
    const auto id_at = line.rfind('|', state_at - 1);
    if (line.substr(0, id_at) != comment) continue;
    return slurm_job{std::string(line.substr(id_at + 1, state_at - id_at - 1)),
                     std::string(line.substr(state_at + 1, reason_at - state_at - 1)),
                     std::string(line.substr(reason_at + 1))};
  }
  return std::nullopt;
}

DUCTILE_INLINE std::size_t count_pending_jobs(std::string_view listing, std::string_view prefix) {
  std::size_t count = 0;
  for (const auto line : lines_of(listing)) {
    if (line.substr(0, prefix.size()) != prefix) continue;
    const auto reason_at = line.rfind('|');
    if (reason_at == std::string_view::npos || reason_at == 0) continue;
    const auto state_at = line.rfind('|', reason_at - 1);
    if (state_at != std::string_view::npos && line.substr(state_at + 1, reason_at - state_at - 1) == "PENDING") ++count;
  }
  return count;
}

DUCTILE_INLINE std::string slurm_time_text(std::chrono::seconds limit) {
  const auto total = std::max<long long>(1, limit.count());
  return fmt::format("{}:{:02d}:{:02d}", total / 3600, (total / 60) % 60, total % 60);
}

DUCTILE_INLINE std::vector<std::string> srun_options(const cluster::slurm_options& o, const std::string& job_name,
                                                     const std::string& comment) {
  // -Q twice: srun prints nothing of its own (not even the "task 0: Exited
  // with exit code 1" line of every failure), so the subtree's stderr is
  // what the subtree wrote; Slurm's own failures are looked up when srun
  // has exited. One Ctrl-C (SIGINT) ends the step, as it ends a local run.
  std::vector<std::string> words{"srun", "-Q", "-Q", "--quit-on-interrupt", "--ntasks=1", "--nodes=1"};
  words.push_back("--job-name=" + (o.job_name.empty() ? job_name : o.job_name));
  words.push_back(fmt::format("--cpus-per-task={}", o.cpus_per_task));
  if (!o.partition.empty()) words.push_back("--partition=" + o.partition);
  if (!o.account.empty()) words.push_back("--account=" + o.account);
  if (!o.qos.empty()) words.push_back("--qos=" + o.qos);
  if (o.memory_bytes) words.push_back(fmt::format("--mem={}K", (*o.memory_bytes + 1023) / 1024));
  if (o.time_limit) words.push_back("--time=" + slurm_time_text(*o.time_limit));
  words.insert(words.end(), o.extra.begin(), o.extra.end());
  // Last, so that an extra --comment cannot take the one the job is found by.
  words.push_back("--comment=" + comment);
  return words;
}

DUCTILE_INLINE std::string slurm_end_note(const slurm_job& job) {
  static constexpr std::pair<const char*, const char*> meanings[] = {
      {"TIMEOUT", "it reached its time limit"},
      {"NODE_FAIL", "its node failed"},
      {"OUT_OF_MEMORY", "it ran out of memory"},
      {"BOOT_FAIL", "its node failed to boot"},
      {"DEADLINE", "it reached its deadline"},
      {"PREEMPTED", "it was preempted"},
      {"CANCELLED", "it was cancelled by scancel or an administrator"},
  };
  // A job still completing shows COMPLETING, but its reason tells a time limit.
  std::string state = job.state;
  if (state == "COMPLETING" && job.reason == "TimeLimit") state = "TIMEOUT";
  for (const auto& [name, meaning] : meanings) {
    if (state.rfind(name, 0) != 0) continue;  // "CANCELLED by 0" counts as CANCELLED
    std::string note = fmt::format("Slurm job {} ended in {}", job.id, state);
    if (!job.reason.empty() && job.reason != "None") note += fmt::format(" (reason {})", job.reason);
    return note + ": " + meaning;
  }
  return {};
}

DUCTILE_INLINE std::string slurm_refusal_words(std::string_view printed) {
  std::string words;
  for (auto line : lines_of(printed)) {
    const auto error_at = line.find("error: ");
    const bool failure = error_at != std::string_view::npos || line.find("failure: ") != std::string_view::npos ||
                         line.find("fatal: ") != std::string_view::npos;
    if (!failure) continue;
    if (line.rfind("srun: ", 0) == 0) line.remove_prefix(6);
    if (line.rfind("error: ", 0) == 0) line.remove_prefix(7);
    if (line.empty()) continue;
    if (!words.empty()) words += "; ";
    words += line;
  }
  if (words.empty())
    for (const auto line : lines_of(printed))
      if (!line.empty()) words += (words.empty() ? "" : "; ") + std::string(line);
  return words;
}

DUCTILE_INLINE std::optional<std::chrono::microseconds> parse_slurm_duration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::uint64_t days = 0;
  if (const auto dash = text.find('-'); dash != std::string_view::npos) {
    const auto d = parse_digits(text.substr(0, dash));
    if (!d) return std::nullopt;
    days = *d;
    text.remove_prefix(dash + 1);
  }
  std::uint64_t micros = 0;
  if (const auto dot = text.find('.'); dot != std::string_view::npos) {
    std::string fraction(text.substr(dot + 1));
    if (fraction.empty() || fraction.size() > 6 || !parse_digits(fraction)) return std::nullopt;
    fraction.resize(6, '0');
    micros = *parse_digits(fraction);
    text = text.substr(0, dot);
  }
  const auto parts = fields_of(text, ':');
  if (parts.size() < 2 || parts.size() > 3) return std::nullopt;
  std::uint64_t seconds = 0;
  for (const auto part : parts) {
    const auto value = parse_digits(part);
    if (!value) return std::nullopt;
    seconds = seconds * 60 + *value;
  }
  seconds += days * 86400;
  return std::chrono::microseconds(static_cast<std::int64_t>(seconds * 1000000 + micros));
}

DUCTILE_INLINE std::optional<std::uint64_t> parse_slurm_size(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::uint64_t scale = 1;
  static constexpr std::string_view units = "KMGTP";
  if (const auto unit = units.find(static_cast<char>(std::toupper(static_cast<unsigned char>(text.back()))));
      unit != std::string_view::npos) {
    for (std::size_t i = 0; i <= unit; ++i) scale *= 1024;
    text.remove_suffix(1);
  }
  // sacct may print a fraction ("1.50M").
  const auto dot = text.find('.');
  const auto whole = parse_digits(text.substr(0, dot));
  if (!whole) return std::nullopt;
  std::uint64_t value = *whole * scale;
  if (dot != std::string_view::npos) {
    const std::string_view fraction = text.substr(dot + 1);
    const auto digits = parse_digits(fraction);
    if (!digits) return std::nullopt;
    std::uint64_t divisor = 1;
    for (std::size_t i = 0; i < fraction.size(); ++i) divisor *= 10;
    value += *digits * scale / divisor;
  }
  return value;
}

DUCTILE_INLINE std::optional<job_usage> parse_sacct_usage(std::string_view text) {
  std::optional<job_usage> usage;
  for (const auto line : lines_of(text)) {
    const auto fields = fields_of(line, '|');
    if (fields.size() < 2) continue;
    if (!usage) {
      // The first line is the job's: its TotalCPU covers every step.
      const auto cpu = parse_slurm_duration(fields[0]);
      if (!cpu) return std::nullopt;
      usage = job_usage{*cpu, std::nullopt};
    }
    if (const auto peak = parse_slurm_size(fields[1]))
      if (!usage->memory_peak_bytes || *peak > *usage->memory_peak_bytes) usage->memory_peak_bytes = *peak;
  }
  return usage;
}

}  // namespace ductile::detail
