#include "run/spawn.hpp"

#include <fmt/format.h>
#include <unistd.h>
#if __has_include(<stdio_ext.h>)
#include <stdio_ext.h>
#define DUCTILE_HAS_FPENDING 1
#else
#define DUCTILE_HAS_FPENDING 0
#endif

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ductile/error.hpp>
#include <stdexcept>

#include "model/failure.hpp"
#include "os/cgroup.hpp"
#include "os/child_plan.hpp"
#include "os/system_calls.hpp"
#include "plan/credentials.hpp"

extern char** environ;

namespace ductile::detail {

// The PATH the child searches: its own environment's, as execvp would see it.
DUCTILE_INLINE const char* child_search_path(const process_launch& launch) {
  static const char* const fallback = "/bin:/usr/bin";
  if (launch.settings.env) {
    const auto found = launch.settings.env->find("PATH");
    return found != launch.settings.env->end() ? found->second.c_str() : fallback;
  }
  const char* inherited = std::getenv("PATH");
  return inherited != nullptr ? inherited : fallback;
}

DUCTILE_INLINE void run_hooks(process_launch& launch) {
  spawn_spec spec;
  spec.argv = launch.arguments();
  const environment current = launch.settings.env ? *launch.settings.env : snapshot_environment(context{});
  spec.env.insert(current.begin(), current.end());
  spec.dir = launch.settings.dir.value_or(std::string());
  for (const auto& hook : launch.settings.hooks) hook(spec);
  if (spec.argv.empty() || spec.argv.front().empty())
    throw std::invalid_argument("before_spawn(): the hook left an empty program");
  for (const auto& arg : spec.argv)
    if (arg.find('\0') != std::string::npos)
      throw std::invalid_argument("before_spawn(): the hook left a NUL byte in an argument");
  for (const auto& [name, value] : spec.env)
    if (name.empty() || name.find('=') != std::string::npos || (name + value).find('\0') != std::string::npos)
      throw std::invalid_argument(fmt::format("before_spawn(): the hook left an invalid variable {:?}", name));
  launch.argv = std::move(spec.argv);
  launch.borrowed_argv = nullptr;
  launch.settings.env = std::make_shared<const environment>(spec.env.begin(), spec.env.end());
  launch.settings.dir = spec.dir.empty() ? std::nullopt : std::optional<std::string>(std::move(spec.dir));
}

// What spawn_error::step() says for each step the child reports.
struct step_name {
  child_step step;
  const char* name;
};
inline constexpr step_name step_names[] = {
    {child_step::none, ""},
    {child_step::process_group, "process group"},
    {child_step::stdio, "stdio"},
    {child_step::close_descriptors, "close descriptors"},
    {child_step::session, "session"},
    {child_step::keep_caps, "keep caps"},
    {child_step::inheritable, "inheritable caps"},
    {child_step::bounding, "bounding caps"},
    {child_step::setgroups, "setgroups"},
    {child_step::setresgid, "setresgid"},
    {child_step::setresuid, "setresuid"},
    {child_step::capset, "capset"},
    {child_step::ambient, "ambient caps"},
    {child_step::no_new_privs, "no_new_privs"},
    {child_step::fork, "fork"},
    {child_step::pid_file, "pid file"},
    {child_step::chdir, "chdir"},
    {child_step::exec, "exec"},
    {child_step::pass_fds, "pass descriptors"},
    {child_step::parent_death, "kill on parent exit"},
    {child_step::terminal, "controlling terminal"},
    {child_step::cgroup, "cgroup"},
    {child_step::descriptor_table, "descriptor table"},
};
static_assert(std::size(step_names) == static_cast<std::size_t>(child_step::descriptor_table) + 1,
              "every child_step needs a name in step_names");

constexpr bool steps_in_order() {
  for (std::size_t i = 0; i < std::size(step_names); ++i)
    if (static_cast<std::size_t>(step_names[i].step) != i) return false;
  return true;
}
static_assert(steps_in_order(), "step_names is indexed by child_step");

DUCTILE_INLINE const char* name_of(child_step step) { return step_names[static_cast<std::size_t>(step)].name; }

// What went wrong in the child, in words.
DUCTILE_INLINE std::string describe_child_failure(const prepared_spawn& prepared) {
  const child_report& report = prepared.report;
  const process_launch& launch = prepared.launch;
  const std::string& program = prepared.program;
  const std::error_code code(report.error, std::generic_category());
  switch (report.step) {
    case child_step::exec:
      if (report.error == EAGAIN && prepared.credentials && prepared.credentials->plan.switch_ids)
        return fmt::format("user {} is over its process limit", prepared.credentials->user_name);
      if (report.error == ENOENT && prepared.searched_path)
        return fmt::format("program {:?} not found in PATH", program);
      if (report.error == ENOENT) return fmt::format("program {:?} does not exist", program);
      if (report.error == EACCES) return fmt::format("program {:?} is not executable (permission denied)", program);
      return fmt::format("cannot execute {:?}: {}", program, code.message());
    case child_step::chdir:
      return fmt::format("cannot change directory to {:?}: {}", launch.settings.dir.value_or(""), code.message());
    case child_step::stdio: return fmt::format("cannot set up stdin/stdout/stderr: {}", code.message());
    case child_step::pass_fds: return fmt::format("cannot pass descriptors with pass_fd(): {}", code.message());
    case child_step::cgroup: return fmt::format("cannot enter its cgroup: {}", code.message());
    case child_step::terminal:
      return fmt::format("cannot make the pseudo-terminal its controlling terminal: {}", code.message());
    case child_step::parent_death:
      return report.error == ENOSYS ? std::string("kill_on_parent_exit() is not supported on this system")
                                    : fmt::format("cannot ask to die with the parent: {}", code.message());
    case child_step::fork: return fmt::format("cannot fork the daemon: {}", code.message());
    case child_step::pid_file:
      return report.error == EWOULDBLOCK
                 ? fmt::format("pid file {:?} is locked: the daemon is already running", launch.pid_file.value_or(""))
                 : fmt::format("cannot lock pid file {:?}: {}", launch.pid_file.value_or(""), code.message());
    case child_step::process_group: return fmt::format("cannot join a new process group: {}", code.message());
    case child_step::close_descriptors: return fmt::format("cannot close inherited descriptors: {}", code.message());
    case child_step::descriptor_table: return fmt::format("cannot make its own descriptor table: {}", code.message());
    case child_step::none: return {};
    case child_step::session:
    case child_step::keep_caps:
    case child_step::inheritable:
    case child_step::bounding:
    case child_step::setgroups:
    case child_step::setresgid:
    case child_step::setresuid:
    case child_step::capset:
    case child_step::ambient:
    case child_step::no_new_privs:
      return describe_credential_failure(static_cast<int>(report.step), report.error,
                                         prepared.credentials ? *prepared.credentials : resolved_credentials{});
  }
  return {};
}

// Windows paths also start with a drive ("C:\\", "C:/") or "\\", and
// separate with either slash.
DUCTILE_INLINE bool is_absolute_path(const std::string& path) {
#ifdef _WIN32
  if (path.size() >= 2 && path[1] == ':') return true;
  if (!path.empty() && path.front() == '\\') return true;
#endif
  return !path.empty() && path.front() == '/';
}

DUCTILE_INLINE bool names_a_path(const std::string& program) {
#ifdef _WIN32
  if (program.find_first_of("\\:") != std::string::npos) return true;
#endif
  return std::memchr(program.data(), '/', program.size()) != nullptr;
}

DUCTILE_INLINE void prepare_spawn(process_launch&& launch, prepared_spawn& out) {
  out.launch = std::move(launch);
  prepare_launch(out);
}

DUCTILE_INLINE void prepare_launch(prepared_spawn& out) {
  if (!out.launch.settings.hooks.empty()) run_hooks(out.launch);

  out.program = out.launch.arguments().front();
  // Made explicitly relative, so that no PATH search applies; one that
  // already is ("./x") keeps its name.
  if (out.launch.program_is_path && !is_absolute_path(out.program) && out.program.compare(0, 2, "./") != 0 &&
      out.program.compare(0, 2, ".\\") != 0) {
    out.program = "./" + out.program;
    out.launch.own_arguments().front() = out.program;
  }
  out.searched_path = !names_a_path(out.program);
  const process_launch& l = out.launch;
  const argument_list& arguments = l.arguments();
  // A relative path names a file relative to the parent, not to `dir`.
  if (!out.searched_path && l.settings.dir && !is_absolute_path(out.program))
    out.exec_path = sys::working_directory() + "/" + out.program;

  const char** argv = out.argv_inline;
  if (arguments.size() + 1 > std::size(out.argv_inline)) {
    out.argv_heap.resize(arguments.size() + 1);
    argv = out.argv_heap.data();
  }
  for (std::size_t i = 0; i < arguments.size(); ++i) argv[i] = arguments[i].c_str();
  argv[arguments.size()] = nullptr;

#ifdef _WIN32
  const char* const* env_pointer = nullptr;  // the child inherits the environment as it is
#else
  const char* const* env_pointer = environ;
#endif
  if (l.settings.env) {
    // Unchanged environments pass `environ` through untouched: copying it for
    // every spawn would be most of the cost of a spawn.
    out.env_entries.reserve(l.settings.env->size());
    out.envp.reserve(l.settings.env->size() + 1);
    for (const auto& [name, value] : *l.settings.env) {
      out.env_entries.push_back(name + "=" + value);
      out.envp.push_back(out.env_entries.back().c_str());
    }
    out.envp.push_back(nullptr);
    env_pointer = out.envp.data();
  }

  child_plan& plan = out.plan;
  plan.argv = argv;
  plan.envp = env_pointer;
  plan.program = out.exec_path.empty() ? out.program.c_str() : out.exec_path.c_str();
  if (out.searched_path) {
    if (child_reads_inherited_path && !l.settings.env)
      plan.search_inherited_path = true;
    else
      plan.search_path = child_search_path(l);
  }
  plan.dir = l.settings.dir ? l.settings.dir->c_str() : nullptr;
  for (int target = 0; target < 3; ++target) plan.stdio[target] = l.settings.streams[target].fd;
  if (!l.settings.passed.empty()) {
    if (l.settings.passed.size() > most_passed_fds)
      throw_spawn_error(out.command_text(), name_of(child_step::pass_fds),
                        fmt::format("more than {} descriptors passed with pass_fd()", most_passed_fds),
                        std::make_error_code(std::errc::too_many_files_open));
    for (const auto& passed : l.settings.passed) out.passed.push_back(fd_move{passed.source.fd, passed.child_fd});
    plan.passed = out.passed.data();
    plan.passed_count = out.passed.size();
  }
  if (l.settings.group) plan.process_group = l.settings.group->pgid;
  if (l.settings.kill_on_parent_exit) plan.die_with = ::getpid();
  if (l.settings.cgroup) {
    plan.cgroup_directory = l.settings.cgroup->directory_fd();
    plan.cgroup_procs = l.settings.cgroup->procs_fd();
  }
  // The first process of a pty() subtree leads its session; the others share the terminal.
  if (l.settings.terminal && !l.settings.terminal->adopted) {
    l.settings.terminal->adopted = true;
    plan.controlling_terminal = l.settings.terminal->slave->get();
  }
  if (l.settings.credentials && l.settings.credentials->any()) {
    out.credentials = std::make_unique<resolved_credentials>();
    resolve_credentials(*l.settings.credentials, out.command_text(), *out.credentials);
    plan.credentials = &out.credentials->plan;
  }
}

DUCTILE_INLINE std::string prepared_spawn::command_text() const {
  return launch.command ? subtree_text(*launch.command) : program;
}

DUCTILE_INLINE void prepared_spawn::throw_failure() const {
  throw_spawn_error(command_text(), name_of(report.step), describe_child_failure(*this),
                    std::error_code(report.error, std::generic_category()));
}

DUCTILE_INLINE void prepared_spawn::throw_if_failed(const started_child& child) const {
  if (child.error) {
    if (child.error == std::errc::illegal_byte_sequence)
      throw std::invalid_argument(fmt::format("command {}: {}", command_text(), *child.explanation));
    if (child.explanation) throw_spawn_error(command_text(), child.step, *child.explanation, child.error);
    throw_spawn_error(command_text(), child.step, child.what, child.error);
  }
  if (report.step != child_step::none) throw_failure();
}

DUCTILE_INLINE void read_child_reports(int fd, child_report& report) noexcept {
  for (;;) {
    child_message message;
    std::size_t got = 0;
    if (sys::read_some(fd, reinterpret_cast<char*>(&message), sizeof message, got) || got != sizeof message) return;
    report.record(message);
  }
}

// Output the host wrote to its stdio buffers must come before the child's
// on the same stdout or stderr. Those two streams only, not every open FILE:
// with nothing buffered this makes no system call.
// __fpending() reads the buffer's fill without taking the stream's lock: a
// stream with nothing in it (stderr nearly always) costs no flush at all.
DUCTILE_INLINE void flush_if_pending(std::FILE* stream) {
#if DUCTILE_HAS_FPENDING
  if (__fpending(stream) == 0) return;
#endif
  std::fflush(stream);
}

DUCTILE_INLINE void flush_shared_output(const child_plan& plan) {
  if (plan.stdio[1] == 1) flush_if_pending(stdout);
  if (plan.stdio[2] == 2) flush_if_pending(stderr);
}

DUCTILE_INLINE spawned_process spawn_prepared(prepared_spawn& prepared) {
  flush_shared_output(prepared.plan);
  started_child child = start_child(prepared.plan, prepared.report, usual_start_mode());
  if (child.error || prepared.report.step != child_step::none) prepared.throw_if_failed(child);
  const pid_t pid = child.process.pid;
  // The program's name goes with the process: nothing reads it from
  // `prepared` once the child has started.
  spawned_process result{std::move(child.process), std::move(prepared.program), 0};
  if (prepared.launch.settings.group) {
    if (prepared.report.made_group) prepared.launch.settings.group->pgid = pid;
    result.process_group = prepared.launch.settings.group->pgid;
  }
  return result;
}

}  // namespace ductile::detail

#undef DUCTILE_HAS_FPENDING
