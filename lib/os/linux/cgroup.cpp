#include "os/cgroup.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <system_error>
#include <vector>

#include "common.hpp"
#include "model/failure.hpp"
#include "os/system_calls.hpp"

namespace ductile::detail {

namespace {

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape_mount_field(std::string_view field) {
  const auto octal = [&](std::size_t k) { return field[k] >= '0' && field[k] <= '7'; };
  std::string out;
  for (std::size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size() && octal(i + 1) && octal(i + 2) && octal(i + 3)) {
      out.push_back(static_cast<char>((field[i + 1] - '0') * 64 + (field[i + 2] - '0') * 8 + (field[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(field[i]);
    }
  }
  return out;
}

std::vector<std::string_view> split_spaces(std::string_view line) {
  std::vector<std::string_view> fields;
  std::size_t at = 0;
  while (at < line.size()) {
    const std::size_t end = std::min(line.find(' ', at), line.size());
    if (end > at) fields.push_back(line.substr(at, end - at));
    at = end + 1;
  }
  return fields;
}

}  // namespace

DUCTILE_INLINE std::optional<cgroup2_mount> find_cgroup2_mount(std::string_view mountinfo) {
  std::size_t at = 0;
  while (at < mountinfo.size()) {
    const std::size_t end = std::min(mountinfo.find('\n', at), mountinfo.size());
    const auto fields = split_spaces(mountinfo.substr(at, end - at));
    at = end + 1;
    // id parent major:minor root mount-point options [optional...] - type source super-options
    std::size_t dash = 6;
    while (dash < fields.size() && fields[dash] != "-") ++dash;
    if (fields.size() < 5 || dash + 1 >= fields.size() || fields[dash + 1] != "cgroup2") continue;
    return cgroup2_mount{unescape_mount_field(fields[4]), unescape_mount_field(fields[3])};
  }
  return std::nullopt;
}

DUCTILE_INLINE std::optional<std::string> unified_cgroup_path(std::string_view proc_self_cgroup) {
  std::size_t at = 0;
  while (at < proc_self_cgroup.size()) {
    const std::size_t end = std::min(proc_self_cgroup.find('\n', at), proc_self_cgroup.size());
    const std::string_view line = proc_self_cgroup.substr(at, end - at);
    at = end + 1;
    if (line.substr(0, 3) == "0::") return std::string(line.substr(3));
  }
  return std::nullopt;
}

DUCTILE_INLINE std::string cpu_max_text(double cpus) {
  const long period = 100000;
  const long quota = std::max(1000L, static_cast<long>(std::llround(cpus * period)));
  return std::to_string(quota) + " " + std::to_string(period);
}

}  // namespace ductile::detail

#if DUCTILE_LINUX_BACKEND
#include <poll.h>

namespace ductile::detail {

namespace {

std::string read_small_file(const std::string& path) {
  std::string text;
  unique_fd fd;
  if (sys::open_file(path.c_str(), O_RDONLY, fd)) return text;
  char buffer[4096];
  for (;;) {
    std::size_t got = 0;
    if (sys::read_some(fd.get(), buffer, sizeof buffer, got) || got == 0) break;
    text.append(buffer, got);
  }
  return text;
}

bool write_small_file(const std::string& path, const std::string& text, std::error_code& error) {
  unique_fd fd;
  if ((error = sys::open_file(path.c_str(), O_WRONLY, fd))) return false;
  std::size_t written = 0;
  if ((error = sys::write_some(fd.get(), text.data(), text.size(), written))) return false;
  return true;
}

// The value after `key ` on its own line of a flat-keyed file (cpu.stat, cgroup.events).
std::optional<std::uint64_t> keyed_value(const std::string& text, std::string_view key) {
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t end = std::min(text.find('\n', at), text.size());
    const std::string_view line = std::string_view(text).substr(at, end - at);
    at = end + 1;
    if (line.size() > key.size() && line.substr(0, key.size()) == key && line[key.size()] == ' ')
      return std::strtoull(std::string(line.substr(key.size() + 1)).c_str(), nullptr, 10);
  }
  return std::nullopt;
}

bool lists_word(const std::string& text, std::string_view word) {
  for (const auto field : split_spaces(text)) {
    std::string_view trimmed = field;
    while (!trimmed.empty() && trimmed.back() == '\n') trimmed.remove_suffix(1);
    if (trimmed == word) return true;
  }
  return false;
}

std::string host_cgroup_directory(const std::string& command) {
  const auto mount = find_cgroup2_mount(read_small_file("/proc/self/mountinfo"));
  if (!mount)
    throw_spawn_error(command, "cgroup",
                      std::string("own_cgroup() needs a cgroup v2 hierarchy, and /proc/self/mountinfo shows none"),
                      std::make_error_code(std::errc::no_such_file_or_directory));
  std::string own = unified_cgroup_path(read_small_file("/proc/self/cgroup")).value_or("/");
  // A mount of a subtree (a container's namespace shows "/" for its own root).
  if (mount->root != "/" && own.compare(0, mount->root.size(), mount->root) == 0) own.erase(0, mount->root.size());
  std::string directory = mount->mount_point + own;
  while (directory.size() > 1 && directory.back() == '/') directory.pop_back();
  return directory;
}

std::atomic<unsigned>& cgroup_counter() noexcept {
  static std::atomic<unsigned> counter{0};
  return counter;
}

}  // namespace

DUCTILE_INLINE std::shared_ptr<cgroup_scope> cgroup_scope::create(const cgroup_options& options,
                                                                  const cgroup_scope* enclosing,
                                                                  const std::string& command) {
  std::string parent = !options.parent.empty() ? options.parent
                       : enclosing != nullptr  ? enclosing->path()
                                               : host_cgroup_directory(command);
  while (parent.size() > 1 && parent.back() == '/') parent.pop_back();
  const std::string path =
      parent + "/ductile-" + std::to_string(::getpid()) + "-" + std::to_string(cgroup_counter().fetch_add(1) + 1);
  if (::mkdir(path.c_str(), 0755) != 0) {
    const std::error_code error = sys::last_error();
    throw_spawn_error(command, "cgroup", "cannot make a cgroup at " + path + ": " + error.message(), error);
  }
  std::shared_ptr<cgroup_scope> made(new cgroup_scope());
  made->path_ = path;  // from here on the destructor removes it
  const auto fail = [&](const std::string& cause, std::error_code error) {
    throw_spawn_error(command, "cgroup", cause, error);
  };
  if (const auto error = sys::open_file(path.c_str(), O_RDONLY | O_DIRECTORY, made->directory_))
    fail("cannot open the cgroup " + path + ": " + error.message(), error);
  if (const auto error = sys::open_file((path + "/cgroup.procs").c_str(), O_WRONLY, made->procs_))
    fail("cannot open " + path + "/cgroup.procs: " + error.message(), error);

  const std::string controllers = read_small_file(path + "/cgroup.controllers");
  const auto limit = [&](const char* controller, const char* file, const char* name, const std::string& value) {
    if (!lists_word(controllers, controller))
      fail(std::string(name) + " needs the " + controller + " controller, which is not enabled for cgroups in " +
               parent + " (its cgroup.subtree_control)",
           std::make_error_code(std::errc::not_supported));
    std::error_code error;
    if (!write_small_file(path + "/" + file, value, error))
      fail("cannot write " + value + " to " + path + "/" + file + ": " + error.message(), error);
  };
  if (options.memory_max) limit("memory", "memory.max", "memory_max", std::to_string(*options.memory_max));
  if (options.pids_max) limit("pids", "pids.max", "pids_max", std::to_string(*options.pids_max));
  if (options.cpu_max) limit("cpu", "cpu.max", "cpu_max", cpu_max_text(*options.cpu_max));
  return made;
}

DUCTILE_INLINE cgroup_scope::~cgroup_scope() {
  if (!path_.empty()) finish();
}

DUCTILE_INLINE bool cgroup_scope::populated() const noexcept {
  try {
    return keyed_value(read_small_file(path_ + "/cgroup.events"), "populated").value_or(0) != 0;
  } catch (...) {
    return false;
  }
}

// Before cgroup.kill (5.14): freeze (5.2) so that nothing forks between the
// reading of cgroup.procs and the kill, signal each, thaw so that they die.
DUCTILE_INLINE void cgroup_scope::kill_one_by_one(int signal) noexcept {
  try {
    std::error_code ignored;
    const bool frozen = signal == SIGKILL && write_small_file(path_ + "/cgroup.freeze", "1", ignored);
    for (int round = 0; round < 16; ++round) {
      const std::string pids = read_small_file(path_ + "/cgroup.procs");
      if (pids.empty()) break;
      for (const auto field : split_spaces(pids)) {
        std::size_t at = 0;
        while (at < field.size()) {
          const std::size_t end = std::min(field.find('\n', at), field.size());
          const long pid = std::strtol(std::string(field.substr(at, end - at)).c_str(), nullptr, 10);
          if (pid > 0) ::kill(static_cast<pid_t>(pid), signal);
          at = end + 1;
        }
      }
      if (signal != SIGKILL || frozen) break;  // a frozen tree cannot have grown
    }
    if (frozen) write_small_file(path_ + "/cgroup.freeze", "0", ignored);
  } catch (...) {
    // Out of memory while reading: the processes are killed with the run anyway.
  }
}

DUCTILE_INLINE void cgroup_scope::signal_all(int signal) noexcept {
  if (finished_) return;
  if (signal == SIGKILL && sys::injected_fault(sys::call::cgroup_kill) == 0) {
    try {
      std::error_code error;
      if (write_small_file(path_ + "/cgroup.kill", "1", error)) return;
    } catch (...) {
    }
  }
  kill_one_by_one(signal);
}

DUCTILE_INLINE const cgroup_usage& cgroup_scope::finish() noexcept {
  if (finished_) return usage_;
  signal_all(SIGKILL);
  finished_ = true;
  // Killed processes leave the cgroup as they exit; cgroup.events says when
  // the last has gone (and wakes a poll for POLLPRI when it changes).
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  unique_fd events;
  (void)sys::open_file((path_ + "/cgroup.events").c_str(), O_RDONLY, events);
  while (populated() && std::chrono::steady_clock::now() < give_up) {
    pollfd changed{events.get(), POLLPRI, 0};
    int ready = 0;
    (void)sys::poll_fds(&changed, events ? 1 : 0, std::chrono::milliseconds(10), ready);
  }
  try {
    const std::string stat = read_small_file(path_ + "/cpu.stat");
    usage_.cpu_time = std::chrono::microseconds(keyed_value(stat, "usage_usec").value_or(0));
    const std::string peak = read_small_file(path_ + "/memory.peak");
    if (!peak.empty()) usage_.memory_peak_bytes = std::strtoull(peak.c_str(), nullptr, 10);
  } catch (...) {
  }
  directory_.reset();
  procs_.reset();
  for (int attempt = 0; attempt < 100 && ::rmdir(path_.c_str()) != 0 && errno == EBUSY; ++attempt) ::usleep(10000);
  return usage_;
}

}  // namespace ductile::detail

#elif !DUCTILE_WINDOWS_BACKEND  // Windows: lib/os/windows/job_scope.cpp

namespace ductile::detail {

DUCTILE_INLINE std::shared_ptr<cgroup_scope> cgroup_scope::create(const cgroup_options&, const cgroup_scope*,
                                                                  const std::string& command) {
  throw_spawn_error(command, "cgroup", std::string("own_cgroup() is not supported on this system"),
                    std::make_error_code(std::errc::not_supported));
}
DUCTILE_INLINE cgroup_scope::~cgroup_scope() = default;
DUCTILE_INLINE void cgroup_scope::signal_all(int) noexcept {}
DUCTILE_INLINE const cgroup_usage& cgroup_scope::finish() noexcept { return usage_; }

}  // namespace ductile::detail

#endif
