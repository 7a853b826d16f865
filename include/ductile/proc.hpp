#pragma once
/// \file
/// Process information from Linux's /proc, with the C++ standard library and
/// libc only: one process's stat, status, io, command line, environment,
/// descriptors and memory maps; every process at once with CPU % between two
/// samples; the system's memory, load and uptime. Usable on its own.
///
/// Every accessor reads one file with one open and read into a reused buffer
/// and parses it exactly. A process that is gone, before or during a read,
/// is `no_such_process`; any other failure is `error`, naming the pid and the
/// file. Linux only: absent from other systems.

#include <sys/types.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "caps.hpp"

#if defined(__linux__)

namespace ductile::proc {

/// A read of /proc that failed; what() reads "cannot read /proc/PID/FILE: REASON".
class error : public std::system_error {
 public:
  error(int code, pid_t pid, const std::string& file);
  /// The process, or 0 for a file about the whole system.
  pid_t pid() const noexcept { return pid_; }
  /// The file's path, "/proc/42/environ".
  const std::string& file() const noexcept { return file_; }

 private:
  pid_t pid_;
  std::string file_;
};

/// The process is gone (it never existed, or exited before or during the read). Code ESRCH.
class no_such_process : public error {
 public:
  no_such_process(pid_t pid, const std::string& file);
};

/// /proc/PID/stat. Times are durations, sizes bytes.
struct stat_info {
  pid_t pid = 0, ppid = 0, pgrp = 0, session = 0;
  std::string comm;  ///< as the kernel holds it: up to 15 bytes, any of them spaces, ')' or '\n'
  char state = '?';  ///< R running, S sleeping, D disk sleep, Z zombie, T stopped, t traced, I idle, X dead
  int tty_nr = 0;
  long threads = 0, priority = 0, nice = 0;
  int processor = 0;  ///< the CPU it last ran on (0 on kernels that do not say)
  std::chrono::nanoseconds user_time{0}, system_time{0};
  std::chrono::system_clock::time_point start_time;
  std::uint64_t virtual_bytes = 0, resident_bytes = 0;
};

/// /proc/PID/status.
struct status_info {
  std::string name;  ///< the comm, unescaped
  char state = '?';
  uid_t uid[4] = {0, 0, 0, 0};  ///< real, effective, saved, filesystem
  gid_t gid[4] = {0, 0, 0, 0};
  std::vector<gid_t> groups;
  caps::state caps;
  caps::set bounding, ambient;
  std::uint64_t peak_virtual_bytes = 0, resident_bytes = 0, peak_resident_bytes = 0, swap_bytes = 0;
  long threads = 0;
  std::uint64_t voluntary_switches = 0, involuntary_switches = 0;
};

/// /proc/PID/io: bytes that reached storage, and characters and calls of read() and write() alike.
struct io_info {
  std::uint64_t read_bytes = 0, write_bytes = 0, read_chars = 0, write_chars = 0, read_calls = 0, write_calls = 0;
};

/// One line of /proc/PID/maps.
struct memory_map {
  std::uintptr_t start = 0, end = 0;
  std::string permissions;  ///< "r-xp"
  std::uint64_t offset = 0;
  std::string device;  ///< "fd:01"
  std::uint64_t inode = 0;
  std::string path;  ///< empty for anonymous memory; "[heap]", "[stack]"; "... (deleted)"
};

/// One entry of /proc/PID/fd: the descriptor and what it points to ("/etc/passwd", "pipe:[123]").
struct fd_info {
  int fd = -1;
  std::string target;
};

/// A process by pid. Each accessor reads /proc anew.
class process {
 public:
  /// Throws no_such_process if there is no such process now.
  explicit process(pid_t pid);
  static process self();
  pid_t pid() const noexcept { return pid_; }

  stat_info stat() const;
  status_info status() const;
  io_info io() const;
  /// The arguments; empty for a kernel thread or a zombie.
  std::vector<std::string> cmdline() const;
  /// The environment it started with, in its order: (name, value).
  std::vector<std::pair<std::string, std::string>> environ() const;
  std::string exe() const;
  std::string cwd() const;
  /// Open descriptors, ascending.
  std::vector<fd_info> fds() const;
  std::vector<memory_map> maps() const;
  /// Direct children, of every thread, ascending.
  std::vector<pid_t> children() const;
  /// The whole tree below, breadth first.
  std::vector<pid_t> descendants() const;

 private:
  pid_t pid_;
};

/// Every process (not thread) now, ascending.
std::vector<pid_t> pids();

/// What a sampler reports of one process.
struct process_sample {
  pid_t pid = 0, ppid = 0;
  std::string name;
  char state = '?';
  std::uint64_t resident_bytes = 0;
  std::chrono::nanoseconds cpu_time{0};  ///< user and system time so far
  double cpu_percent = 0;                ///< of one CPU since this sampler last saw it (top's %CPU); 0 at first
};

/// CPU % between two samples, like top or sysinfo's refresh: keep one and call it repeatedly.
class sampler {
 public:
  /// Every process; a process that vanishes meanwhile is left out.
  std::vector<process_sample> sample();
  /// One process, or nothing if it is gone.
  std::optional<process_sample> sample(pid_t pid);

 private:
  struct seen {
    pid_t pid = 0;
    std::chrono::nanoseconds cpu_time{0};
    std::chrono::steady_clock::time_point at;
    std::uint64_t start_ticks = 0;  // a reused pid starts at another time
  };
  std::optional<process_sample> measure(pid_t pid, std::chrono::steady_clock::time_point now);
  // By pid (/proc lists them in order, so a full sample appends): a sorted
  // vector, where a hash map would cost every includer <unordered_map>.
  std::vector<seen> seen_;
};

/// /proc/meminfo, in bytes.
struct memory_info {
  std::uint64_t total = 0, free = 0, available = 0, buffers = 0, cached = 0, swap_total = 0, swap_free = 0;
};
memory_info memory();
/// The 1, 5 and 15 minute load averages.
std::array<double, 3> load_average();
std::chrono::nanoseconds uptime();
std::chrono::system_clock::time_point boot_time();
/// Online CPUs.
unsigned cpu_count();

}  // namespace ductile::proc

#endif  // __linux__
