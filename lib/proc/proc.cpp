// Process information from /proc. Each accessor reads one file with one open
// and a read loop into a per-thread buffer that is reused, and parses it with
// plain loops over a string_view: no iostreams, no locale (a host's
// LC_NUMERIC cannot turn "0.52" into 0), no allocation but the values returned.

#include <ductile/proc.hpp>

#include "common.hpp"
#include "proc/parse.hpp"

#if defined(__linux__)

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <string_view>

namespace ductile::proc {

DUCTILE_INLINE error::error(int code, pid_t pid, const std::string& file)
    : std::system_error(code, std::generic_category(), "cannot read " + file), pid_(pid), file_(file) {}

DUCTILE_INLINE no_such_process::no_such_process(pid_t pid, const std::string& file) : error(ESRCH, pid, file) {}

namespace detail {

// "/proc/PID/NAME" (or "/proc/NAME" for pid 0) in a buffer on the stack.
struct proc_path {
  char text[96];
  proc_path(pid_t pid, const char* name) noexcept {
    if (pid > 0)
      std::snprintf(text, sizeof text, "/proc/%d/%s", static_cast<int>(pid), name);
    else
      std::snprintf(text, sizeof text, "/proc/%s", name);
  }
};

DUCTILE_INLINE bool process_exists_at(pid_t pid, const char* name) noexcept {
  const proc_path path(pid, name);
  struct stat info {};
  return ::stat(path.text, &info) == 0;
}

DUCTILE_INLINE bool process_exists(pid_t pid) noexcept { return process_exists_at(pid, ""); }

// The failure of a read of `path`: the process is gone, or something else.
[[noreturn]] DUCTILE_INLINE void fail(int code, pid_t pid, const char* path) {
  if (pid > 0 && (code == ESRCH || ((code == ENOENT || code == ENOTDIR) && !process_exists(pid))))
    throw no_such_process(pid, path);
  throw error(code, pid, path);
}

// The whole file, in `buffer` (grown as needed).
DUCTILE_INLINE std::string_view read_whole_into(pid_t pid, const char* path, std::string& buffer) {
  if (buffer.empty()) buffer.resize(4096);
  int fd;
  do {
    fd = ::open(path, O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) fail(errno, pid, path);
  std::size_t length = 0;
  for (;;) {
    if (length == buffer.size()) buffer.resize(buffer.size() * 2);
    const ssize_t n = ::read(fd, &buffer[length], buffer.size() - length);
    if (n > 0) {
      length += static_cast<std::size_t>(n);
      continue;
    }
    if (n == 0) break;
    if (errno == EINTR) continue;
    const int code = errno;
    ::close(fd);
    fail(code, pid, path);
  }
  ::close(fd);
  return std::string_view(buffer.data(), length);
}

// The whole file, in this thread's buffer: valid until the next read on this
// thread, so a parser holding the view must call no other reader (the boot
// time has a buffer of its own for that reason).
DUCTILE_INLINE std::string_view read_whole(pid_t pid, const char* path) {
  thread_local std::string buffer(4096, '\0');
  return read_whole_into(pid, path, buffer);
}

DUCTILE_INLINE std::string_view read_file(pid_t pid, const char* name) {
  const proc_path path(pid, name);
  return read_whole(pid, path.text);
}

// A malformed file: the kernel changed in a way this parser cannot follow.
[[noreturn]] DUCTILE_INLINE void malformed(pid_t pid, const char* name) {
  const proc_path path(pid, name);
  fail(EPROTO, pid, path.text);
}

DUCTILE_INLINE std::string read_link(pid_t pid, const char* name) {
  const proc_path path(pid, name);
  std::string target(256, '\0');
  for (;;) {
    const ssize_t n = ::readlink(path.text, &target[0], target.size());
    if (n < 0) fail(errno, pid, path.text);
    if (static_cast<std::size_t>(n) < target.size()) {
      target.resize(static_cast<std::size_t>(n));
      return target;
    }
    target.resize(target.size() * 2);
  }
}

// Plain number parsing: digits only, no locale.
DUCTILE_INLINE std::uint64_t to_unsigned(std::string_view text, int base = 10) noexcept {
  std::uint64_t value = 0;
  for (const char c : text) {
    int digit;
    if (c >= '0' && c <= '9')
      digit = c - '0';
    else if (base == 16 && c >= 'a' && c <= 'f')
      digit = c - 'a' + 10;
    else if (base == 16 && c >= 'A' && c <= 'F')
      digit = c - 'A' + 10;
    else
      break;
    value = value * static_cast<std::uint64_t>(base) + static_cast<std::uint64_t>(digit);
  }
  return value;
}

DUCTILE_INLINE long long to_signed(std::string_view text) noexcept {
  if (!text.empty() && text.front() == '-') return -static_cast<long long>(to_unsigned(text.substr(1)));
  return static_cast<long long>(to_unsigned(text));
}

// "12345.67" as nanoseconds; "0.52" as a double, without strtod's locale.
DUCTILE_INLINE std::chrono::nanoseconds to_duration(std::string_view text) noexcept {
  const std::size_t dot = text.find('.');
  std::int64_t nanoseconds = static_cast<std::int64_t>(to_unsigned(text.substr(0, dot))) * 1000000000;
  if (dot != std::string_view::npos) {
    std::int64_t scale = 100000000;
    for (std::size_t i = dot + 1; i < text.size() && text[i] >= '0' && text[i] <= '9' && scale > 0; ++i) {
      nanoseconds += (text[i] - '0') * scale;
      scale /= 10;
    }
  }
  return std::chrono::nanoseconds(nanoseconds);
}

DUCTILE_INLINE double to_double(std::string_view text) noexcept {
  return static_cast<double>(to_duration(text).count()) / 1e9;
}

// Splits at runs of spaces into `out`; returns how many fields were found (at most `capacity`).
DUCTILE_INLINE std::size_t split_fields(std::string_view text, std::string_view* out, std::size_t capacity) noexcept {
  std::size_t count = 0;
  std::size_t at = 0;
  while (count < capacity) {
    while (at < text.size() && (text[at] == ' ' || text[at] == '\n')) ++at;
    if (at >= text.size()) break;
    const std::size_t end = std::min(text.find_first_of(" \n", at), text.size());
    out[count++] = text.substr(at, end - at);
    at = end;
  }
  return count;
}

// Calls `each(key, value)` for every "Key:\tvalue" line.
template <class Each>
void for_each_line(std::string_view text, Each&& each) {
  while (!text.empty()) {
    const std::size_t end = std::min(text.find('\n'), text.size());
    const std::string_view line = text.substr(0, end);
    const std::size_t colon = line.find(':');
    if (colon != std::string_view::npos) {
      std::size_t value = colon + 1;
      while (value < line.size() && (line[value] == ' ' || line[value] == '\t')) ++value;
      each(line.substr(0, colon), line.substr(value));
    }
    text.remove_prefix(std::min(end + 1, text.size()));
  }
}

// "1234 kB" as bytes.
DUCTILE_INLINE std::uint64_t kib_to_bytes(std::string_view value) noexcept { return to_unsigned(value) * 1024; }

DUCTILE_INLINE std::int64_t ticks_per_second() noexcept {
  static const std::int64_t ticks = [] {
    const long n = ::sysconf(_SC_CLK_TCK);
    return n > 0 ? static_cast<std::int64_t>(n) : 100;
  }();
  return ticks;
}

DUCTILE_INLINE std::chrono::nanoseconds from_ticks(std::uint64_t ticks) noexcept {
  const std::int64_t per_second = ticks_per_second();
  const auto whole = static_cast<std::int64_t>(ticks) / per_second;
  const auto part = static_cast<std::int64_t>(ticks) % per_second;
  return std::chrono::seconds(whole) + std::chrono::nanoseconds(part * 1000000000 / per_second);
}

DUCTILE_INLINE std::uint64_t page_size() noexcept {
  static const std::uint64_t size = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  return size;
}

// The boot time, read once: /proc/stat's btime is recomputed from the clock
// at each read and may move by a second.
DUCTILE_INLINE std::chrono::system_clock::time_point cached_boot_time() {
  static const std::chrono::system_clock::time_point boot = boot_time();
  return boot;
}

DUCTILE_INLINE void parse_stat(pid_t pid, std::string_view text, parsed_stat& out) {
  const std::size_t open = text.find('(');
  const std::size_t close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) malformed(pid, "stat");
  stat_info& s = out.info;
  s.pid = static_cast<pid_t>(to_signed(text.substr(0, open)));
  s.comm.assign(text.data() + open + 1, close - open - 1);
  // Field n of proc(5) is fields[n - 3].
  std::string_view fields[40];
  const std::size_t count = split_fields(text.substr(close + 1), fields, std::size(fields));
  if (count < 22) malformed(pid, "stat");  // up to rss (24), present on every kernel
  const auto field = [&](int n) { return fields[n - 3]; };
  s.state = field(3).empty() ? '?' : field(3)[0];
  s.ppid = static_cast<pid_t>(to_signed(field(4)));
  s.pgrp = static_cast<pid_t>(to_signed(field(5)));
  s.session = static_cast<pid_t>(to_signed(field(6)));
  s.tty_nr = static_cast<int>(to_signed(field(7)));
  s.user_time = from_ticks(to_unsigned(field(14)));
  s.system_time = from_ticks(to_unsigned(field(15)));
  s.priority = static_cast<long>(to_signed(field(18)));
  s.nice = static_cast<long>(to_signed(field(19)));
  s.threads = static_cast<long>(to_signed(field(20)));
  out.start_ticks = to_unsigned(field(22));
  s.start_time =
      cached_boot_time() + std::chrono::duration_cast<std::chrono::system_clock::duration>(from_ticks(out.start_ticks));
  s.virtual_bytes = to_unsigned(field(23));
  s.resident_bytes = static_cast<std::uint64_t>(to_signed(field(24))) * page_size();
  s.processor = count >= 37 ? static_cast<int>(to_signed(field(39))) : 0;
}

// status escapes the name's newline and backslash (and other white space) as C does.
DUCTILE_INLINE std::string unescape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\' || i + 1 == text.size()) {
      out += text[i];
      continue;
    }
    switch (text[++i]) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case 'v': out += '\v'; break;
      case 'f': out += '\f'; break;
      case '\\': out += '\\'; break;
      default: out += '\\'; out += text[i];
    }
  }
  return out;
}

DUCTILE_INLINE std::vector<pid_t> numbered_entries(pid_t pid, const char* path) {
  DIR* directory = ::opendir(path);
  if (directory == nullptr) fail(errno, pid, path);
  std::vector<pid_t> found;
  while (const dirent* entry = ::readdir(directory)) {
    const char* name = entry->d_name;
    if (*name < '0' || *name > '9') continue;
    found.push_back(static_cast<pid_t>(to_unsigned(name)));
  }
  ::closedir(directory);
  std::sort(found.begin(), found.end());
  return found;
}

// Orders a sampler's memory of processes by pid, for lower_bound.
struct pid_order {
  template <class Seen>
  bool operator()(const Seen& seen, pid_t pid) const noexcept {
    return seen.pid < pid;
  }
};
inline constexpr pid_order pid_below{};

}  // namespace detail

DUCTILE_INLINE process::process(pid_t pid) : pid_(pid) {
  if (pid <= 0 || !detail::process_exists(pid)) {
    const detail::proc_path path(pid, "");
    throw no_such_process(pid, path.text);
  }
}

DUCTILE_INLINE process process::self() { return process(::getpid()); }

DUCTILE_INLINE stat_info process::stat() const {
  detail::parsed_stat parsed;
  detail::parse_stat(pid_, detail::read_file(pid_, "stat"), parsed);
  return std::move(parsed.info);
}

DUCTILE_INLINE status_info process::status() const {
  status_info s;
  const std::string_view text = detail::read_file(pid_, "status");
  const auto mask = [](std::string_view value) { return caps::set::from_mask(detail::to_unsigned(value, 16)); };
  const auto four = [](std::string_view value, auto(&ids)[4]) {
    std::string_view fields[4];
    const std::size_t n = detail::split_fields(value, fields, 4);
    for (std::size_t i = 0; i < n; ++i)
      ids[i] = static_cast<std::remove_reference_t<decltype(ids[0])>>(detail::to_unsigned(fields[i]));
  };
  bool named = false;
  detail::for_each_line(text, [&](std::string_view key, std::string_view value) {
    if (key == "Name") {
      s.name = detail::unescape(value);
      named = true;
    } else if (key == "State") {
      s.state = value.empty() ? '?' : value[0];
    } else if (key == "Uid") {
      four(value, s.uid);
    } else if (key == "Gid") {
      four(value, s.gid);
    } else if (key == "Groups") {
      std::string_view fields[64];
      std::string_view rest = value;
      for (;;) {
        const std::size_t n = detail::split_fields(rest, fields, std::size(fields));
        for (std::size_t i = 0; i < n; ++i) s.groups.push_back(static_cast<gid_t>(detail::to_unsigned(fields[i])));
        if (n < std::size(fields)) break;
        rest = rest.substr(static_cast<std::size_t>(fields[n - 1].data() + fields[n - 1].size() - rest.data()));
      }
    } else if (key == "CapInh") {
      s.caps.inheritable = mask(value);
    } else if (key == "CapPrm") {
      s.caps.permitted = mask(value);
    } else if (key == "CapEff") {
      s.caps.effective = mask(value);
    } else if (key == "CapBnd") {
      s.bounding = mask(value);
    } else if (key == "CapAmb") {
      s.ambient = mask(value);
    } else if (key == "VmPeak") {
      s.peak_virtual_bytes = detail::kib_to_bytes(value);
    } else if (key == "VmRSS") {
      s.resident_bytes = detail::kib_to_bytes(value);
    } else if (key == "VmHWM") {
      s.peak_resident_bytes = detail::kib_to_bytes(value);
    } else if (key == "VmSwap") {
      s.swap_bytes = detail::kib_to_bytes(value);
    } else if (key == "Threads") {
      s.threads = static_cast<long>(detail::to_signed(value));
    } else if (key == "voluntary_ctxt_switches") {
      s.voluntary_switches = detail::to_unsigned(value);
    } else if (key == "nonvoluntary_ctxt_switches") {
      s.involuntary_switches = detail::to_unsigned(value);
    }
  });
  if (!named) detail::malformed(pid_, "status");
  return s;
}

DUCTILE_INLINE io_info process::io() const {
  io_info io;
  detail::for_each_line(detail::read_file(pid_, "io"), [&](std::string_view key, std::string_view value) {
    const std::uint64_t n = detail::to_unsigned(value);
    if (key == "rchar") io.read_chars = n;
    if (key == "wchar") io.write_chars = n;
    if (key == "syscr") io.read_calls = n;
    if (key == "syscw") io.write_calls = n;
    if (key == "read_bytes") io.read_bytes = n;
    if (key == "write_bytes") io.write_bytes = n;
  });
  return io;
}

DUCTILE_INLINE std::vector<std::string> process::cmdline() const {
  std::string_view text = detail::read_file(pid_, "cmdline");
  std::vector<std::string> arguments;
  while (!text.empty()) {
    const std::size_t end = std::min(text.find('\0'), text.size());
    arguments.emplace_back(text.substr(0, end));
    text.remove_prefix(std::min(end + 1, text.size()));
  }
  return arguments;
}

DUCTILE_INLINE std::vector<std::pair<std::string, std::string>> process::environ() const {
  std::string_view text = detail::read_file(pid_, "environ");
  std::vector<std::pair<std::string, std::string>> variables;
  while (!text.empty()) {
    const std::size_t end = std::min(text.find('\0'), text.size());
    const std::string_view entry = text.substr(0, end);
    const std::size_t equals = entry.find('=');
    if (equals == std::string_view::npos)
      variables.emplace_back(std::string(entry), std::string());
    else
      variables.emplace_back(std::string(entry.substr(0, equals)), std::string(entry.substr(equals + 1)));
    text.remove_prefix(std::min(end + 1, text.size()));
  }
  return variables;
}

DUCTILE_INLINE std::string process::exe() const { return detail::read_link(pid_, "exe"); }

DUCTILE_INLINE std::string process::cwd() const { return detail::read_link(pid_, "cwd"); }

DUCTILE_INLINE std::vector<fd_info> process::fds() const {
  const detail::proc_path directory(pid_, "fd");
  std::vector<fd_info> found;
  for (const pid_t fd : detail::numbered_entries(pid_, directory.text)) {
    char name[32];
    std::snprintf(name, sizeof name, "fd/%d", static_cast<int>(fd));
    try {
      found.push_back(fd_info{static_cast<int>(fd), detail::read_link(pid_, name)});
    } catch (const no_such_process&) {
      throw;
    } catch (const error& e) {
      if (e.code().value() != ENOENT) throw;  // closed since the listing
    }
  }
  return found;
}

DUCTILE_INLINE std::vector<memory_map> process::maps() const {
  std::string_view text = detail::read_file(pid_, "maps");
  std::vector<memory_map> maps;
  while (!text.empty()) {
    const std::size_t end = std::min(text.find('\n'), text.size());
    const std::string_view line = text.substr(0, end);
    text.remove_prefix(std::min(end + 1, text.size()));
    std::string_view fields[5];
    if (detail::split_fields(line, fields, 5) < 5) continue;
    memory_map m;
    const std::size_t dash = fields[0].find('-');
    m.start = static_cast<std::uintptr_t>(detail::to_unsigned(fields[0].substr(0, dash), 16));
    m.end = static_cast<std::uintptr_t>(detail::to_unsigned(fields[0].substr(dash + 1), 16));
    m.permissions = std::string(fields[1]);
    m.offset = detail::to_unsigned(fields[2], 16);
    m.device = std::string(fields[3]);
    m.inode = detail::to_unsigned(fields[4]);
    // The path is the rest of the line after the inode: it may hold spaces.
    std::size_t at = static_cast<std::size_t>(fields[4].data() + fields[4].size() - line.data());
    while (at < line.size() && line[at] == ' ') ++at;
    m.path = std::string(line.substr(at));
    maps.push_back(std::move(m));
  }
  return maps;
}

DUCTILE_INLINE std::vector<pid_t> process::children() const {
  // Each thread's children are listed under its own task (CONFIG_PROC_CHILDREN).
  const detail::proc_path tasks(pid_, "task");
  std::vector<pid_t> found;
  bool listed = true;
  for (const pid_t tid : detail::numbered_entries(pid_, tasks.text)) {
    char name[48];
    std::snprintf(name, sizeof name, "task/%d/children", static_cast<int>(tid));
    const detail::proc_path path(pid_, name);
    std::string_view text;
    try {
      text = detail::read_whole(pid_, path.text);
    } catch (const no_such_process&) {
      throw;
    } catch (const error& e) {
      if (e.code().value() != ENOENT) throw;
      char thread[48];
      std::snprintf(thread, sizeof thread, "task/%d", static_cast<int>(tid));
      if (detail::process_exists_at(pid_, thread)) {
        listed = false;  // a kernel without CONFIG_PROC_CHILDREN
        break;
      }
      continue;  // the thread ended
    }
    std::string_view fields[256];
    for (;;) {
      const std::size_t n = detail::split_fields(text, fields, std::size(fields));
      for (std::size_t i = 0; i < n; ++i) found.push_back(static_cast<pid_t>(detail::to_unsigned(fields[i])));
      if (n < std::size(fields)) break;
      text.remove_prefix(static_cast<std::size_t>(fields[n - 1].data() + fields[n - 1].size() - text.data()));
    }
  }
  if (!listed) {
    // Without the children files: every process's parent, from its stat.
    found.clear();
    for (const pid_t candidate : pids()) {
      try {
        detail::parsed_stat parsed;
        detail::parse_stat(candidate, detail::read_file(candidate, "stat"), parsed);
        if (parsed.info.ppid == pid_) found.push_back(candidate);
      } catch (const no_such_process&) {
      }
    }
  }
  std::sort(found.begin(), found.end());
  found.erase(std::unique(found.begin(), found.end()), found.end());
  return found;
}

DUCTILE_INLINE std::vector<pid_t> process::descendants() const {
  std::vector<pid_t> found;
  std::deque<pid_t> waiting{pid_};
  while (!waiting.empty()) {
    const pid_t next = waiting.front();
    waiting.pop_front();
    std::vector<pid_t> below;
    try {
      below = next == pid_ ? children() : process(next).children();
    } catch (const no_such_process&) {
      if (next == pid_) throw;
      continue;  // it exited meanwhile; its children now belong to a reaper
    }
    for (const pid_t child : below) {
      found.push_back(child);
      waiting.push_back(child);
    }
  }
  return found;
}

DUCTILE_INLINE std::vector<pid_t> pids() { return detail::numbered_entries(0, "/proc"); }

DUCTILE_INLINE std::optional<process_sample> sampler::measure(pid_t pid, std::chrono::steady_clock::time_point now) {
  detail::parsed_stat parsed;
  try {
    detail::parse_stat(pid, detail::read_file(pid, "stat"), parsed);
  } catch (const no_such_process&) {
    const auto gone = std::lower_bound(seen_.begin(), seen_.end(), pid, detail::pid_below);
    if (gone != seen_.end() && gone->pid == pid) seen_.erase(gone);
    return std::nullopt;
  }
  stat_info& s = parsed.info;
  process_sample sample;
  sample.pid = pid;
  sample.ppid = s.ppid;
  sample.name = std::move(s.comm);
  sample.state = s.state;
  sample.resident_bytes = s.resident_bytes;
  sample.cpu_time = s.user_time + s.system_time;
  auto entry = std::lower_bound(seen_.begin(), seen_.end(), pid, detail::pid_below);
  const bool first = entry == seen_.end() || entry->pid != pid;
  if (first) entry = seen_.insert(entry, seen{pid, {}, {}, 0});
  seen& before = *entry;
  if (!first && before.start_ticks == parsed.start_ticks && now > before.at) {
    const double busy = static_cast<double>((sample.cpu_time - before.cpu_time).count());
    const double elapsed = static_cast<double>(std::chrono::nanoseconds(now - before.at).count());
    sample.cpu_percent = busy > 0 ? 100.0 * busy / elapsed : 0.0;
  }
  before = seen{pid, sample.cpu_time, now, parsed.start_ticks};
  return sample;
}

DUCTILE_INLINE std::vector<process_sample> sampler::sample() {
  const auto now = std::chrono::steady_clock::now();
  const std::vector<pid_t> all = pids();
  std::vector<process_sample> samples;
  samples.reserve(all.size());
  for (const pid_t pid : all)
    if (auto s = measure(pid, now)) samples.push_back(std::move(*s));
  // Forget the processes that are gone, so the table does not grow forever.
  seen_.erase(std::remove_if(seen_.begin(), seen_.end(),
                             [&](const seen& s) { return !std::binary_search(all.begin(), all.end(), s.pid); }),
              seen_.end());
  return samples;
}

DUCTILE_INLINE std::optional<process_sample> sampler::sample(pid_t pid) {
  return measure(pid, std::chrono::steady_clock::now());
}

DUCTILE_INLINE memory_info memory() {
  memory_info m;
  detail::for_each_line(detail::read_file(0, "meminfo"), [&](std::string_view key, std::string_view value) {
    const std::uint64_t bytes = detail::kib_to_bytes(value);
    if (key == "MemTotal") m.total = bytes;
    if (key == "MemFree") m.free = bytes;
    if (key == "MemAvailable") m.available = bytes;
    if (key == "Buffers") m.buffers = bytes;
    if (key == "Cached") m.cached = bytes;
    if (key == "SwapTotal") m.swap_total = bytes;
    if (key == "SwapFree") m.swap_free = bytes;
  });
  return m;
}

DUCTILE_INLINE std::array<double, 3> load_average() {
  std::string_view fields[3];
  if (detail::split_fields(detail::read_file(0, "loadavg"), fields, 3) < 3) detail::malformed(0, "loadavg");
  return {detail::to_double(fields[0]), detail::to_double(fields[1]), detail::to_double(fields[2])};
}

DUCTILE_INLINE std::chrono::nanoseconds uptime() {
  std::string_view fields[1];
  if (detail::split_fields(detail::read_file(0, "uptime"), fields, 1) < 1) detail::malformed(0, "uptime");
  return detail::to_duration(fields[0]);
}

DUCTILE_INLINE std::chrono::system_clock::time_point boot_time() {
  // Its own buffer: the first stat parse of a process asks for the boot time
  // while it holds a view into the shared one.
  std::string buffer;
  const std::string_view text = detail::read_whole_into(0, "/proc/stat", buffer);
  const std::size_t at = text.find("\nbtime ");
  if (at == std::string_view::npos) detail::malformed(0, "stat");
  const std::uint64_t seconds = detail::to_unsigned(text.substr(at + 7));
  return std::chrono::system_clock::time_point(std::chrono::seconds(seconds));
}

DUCTILE_INLINE unsigned cpu_count() {
  const long n = ::sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<unsigned>(n) : 1U;
}

}  // namespace ductile::proc

#endif  // __linux__
