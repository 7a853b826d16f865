#include "os/linux/spawn.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <ductile/error.hpp>
#include <stdexcept>

#include "os/linux/child.hpp"
#include "plan/credentials.hpp"

extern char** environ;

#if defined(__SANITIZE_THREAD__)
#define DUCTILE_SPAWN_WITHOUT_SHARED_MEMORY 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define DUCTILE_SPAWN_WITHOUT_SHARED_MEMORY 1
#endif
#endif
#ifndef DUCTILE_SPAWN_WITHOUT_SHARED_MEMORY
#define DUCTILE_SPAWN_WITHOUT_SHARED_MEMORY 0
#endif

namespace ductile::detail {

// The child's stack: one per spawning thread, made on first use. With
// CLONE_VFORK the parent thread is suspended while the child uses it, so it is
// never shared. The pointer is a trivially destructible thread_local, so it
// stays usable after the thread's destructors ran: a spawn from an atexit
// handler or a static destructor finds it null and maps a new stack.
struct child_stack {
  static constexpr std::size_t guard = 4096;
  static constexpr std::size_t usable = 64 * 1024;
  static void*& base() noexcept {
    thread_local void* mapped = nullptr;
    return mapped;
  }
  // Unmaps the stack when the thread ends, and forgets it.
  struct releaser {
    ~releaser() {
      if (void*& mapped = base(); mapped != nullptr) {
        ::munmap(mapped, guard + usable);
        mapped = nullptr;
      }
    }
  };
  static void* top() noexcept {
    void*& mapped = base();
    if (mapped == nullptr) {
      void* memory =
          ::mmap(nullptr, guard + usable, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
      if (memory == MAP_FAILED) return nullptr;
      ::mprotect(memory, guard, PROT_NONE);  // stacks grow down: the guard sits below
      mapped = memory;
      thread_local releaser release_at_thread_exit;
      (void)release_at_thread_exit;
    }
    return static_cast<char*>(mapped) + guard + usable;
  }
};

DUCTILE_INLINE std::string parent_directory() {
  std::string buffer(256, '\0');
  for (;;) {
    if (::getcwd(buffer.data(), buffer.size()) != nullptr) {
      buffer.resize(std::char_traits<char>::length(buffer.c_str()));
      return buffer;
    }
    if (errno != ERANGE) return ".";
    buffer.resize(buffer.size() * 2);
  }
}

// The PATH the child searches: its own environment's, as execvp would see it.
DUCTILE_INLINE const char* child_search_path(const process_launch& launch) {
  static const char* const fallback = "/bin:/usr/bin";
  if (launch.env) {
    const auto found = launch.env->find("PATH");
    return found != launch.env->end() ? found->second.c_str() : fallback;
  }
  const char* inherited = std::getenv("PATH");
  return inherited != nullptr ? inherited : fallback;
}

DUCTILE_INLINE void run_hooks(process_launch& launch) {
  spawn_spec spec;
  spec.argv = launch.argv;
  spec.env = launch.env ? *launch.env : snapshot_environment(context{});
  spec.dir = launch.dir.value_or(std::string());
  for (const auto& hook : launch.hooks) hook(spec);
  if (spec.argv.empty() || spec.argv.front().empty())
    throw std::invalid_argument("before_spawn(): the hook left an empty program");
  for (const auto& arg : spec.argv)
    if (arg.find('\0') != std::string::npos)
      throw std::invalid_argument("before_spawn(): the hook left a NUL byte in an argument");
  for (const auto& [name, value] : spec.env)
    if (name.empty() || name.find('=') != std::string::npos || (name + value).find('\0') != std::string::npos)
      throw std::invalid_argument(fmt::format("before_spawn(): the hook left an invalid variable {:?}", name));
  launch.argv = std::move(spec.argv);
  launch.env = std::make_shared<const environment>(std::move(spec.env));
  launch.dir = spec.dir.empty() ? std::nullopt : std::optional<std::string>(std::move(spec.dir));
}

DUCTILE_INLINE const char* credential_step_name(child_step step) {
  switch (step) {
    case child_step::session: return "session";
    case child_step::keep_caps: return "keep caps";
    case child_step::inheritable: return "inheritable caps";
    case child_step::bounding: return "bounding caps";
    case child_step::setgroups: return "setgroups";
    case child_step::setresgid: return "setresgid";
    case child_step::setresuid: return "setresuid";
    case child_step::capset: return "capset";
    case child_step::ambient: return "ambient caps";
    case child_step::no_new_privs: return "no_new_privs";
    default: return "credentials";
  }
}

[[noreturn]] DUCTILE_INLINE void throw_child_failure(const process_launch& launch, const std::string& program,
                                                     bool searched_path, child_report report,
                                                     const resolved_credentials& credentials) {
  const std::error_code code(report.error, std::generic_category());
  const std::string command = launch.command ? subtree_text(*launch.command) : program;
  std::string cause;
  std::string step;
  switch (report.step) {
    case child_step::exec:
      step = "exec";
      if (report.error == EAGAIN && credentials.plan.switch_ids)
        cause = fmt::format("user {} is over its process limit", credentials.user_name);
      else if (report.error == ENOENT && searched_path)
        cause = fmt::format("program {:?} not found in PATH", program);
      else if (report.error == ENOENT)
        cause = fmt::format("program {:?} does not exist", program);
      else if (report.error == EACCES)
        cause = fmt::format("program {:?} is not executable (permission denied)", program);
      else
        cause = fmt::format("cannot execute {:?}: {}", program, code.message());
      break;
    case child_step::chdir:
      step = "chdir";
      cause = fmt::format("cannot change directory to {:?}: {}", launch.dir.value_or(""), code.message());
      break;
    case child_step::stdio:
      step = "stdio";
      cause = fmt::format("cannot set up stdin/stdout/stderr: {}", code.message());
      break;
    case child_step::fork:
      step = "fork";
      cause = fmt::format("cannot fork the daemon: {}", code.message());
      break;
    case child_step::pid_file:
      step = "pid file";
      cause = report.error == EWOULDBLOCK
                  ? fmt::format("pid file {:?} is locked: the daemon is already running", launch.pid_file.value_or(""))
                  : fmt::format("cannot lock pid file {:?}: {}", launch.pid_file.value_or(""), code.message());
      break;
    case child_step::process_group:
      step = "process group";
      cause = fmt::format("cannot join a new process group: {}", code.message());
      break;
    case child_step::close_descriptors:
      step = "close descriptors";
      cause = fmt::format("cannot close inherited descriptors: {}", code.message());
      break;
    case child_step::none: break;
    default:
      step = credential_step_name(report.step);
      cause = describe_credential_failure(static_cast<int>(report.step), report.error, credentials);
      break;
  }
  throw spawn_error(fmt::format("cannot run {}: {}", command, cause), command, step, code);
}

DUCTILE_INLINE void prepare_spawn(process_launch&& launch, prepared_spawn& out) {
  if (!launch.hooks.empty()) run_hooks(launch);

  out.program = launch.argv.front();
  if (launch.program_is_path && out.program.front() != '/') {
    out.program = "./" + out.program;
    launch.argv.front() = out.program;
  }
  out.searched_path = out.program.find('/') == std::string::npos;
  out.launch = std::move(launch);
  const process_launch& l = out.launch;
  // A relative path names a file relative to the parent, not to `dir`.
  if (!out.searched_path && l.dir && out.program.front() != '/') out.exec_path = parent_directory() + "/" + out.program;

  const char** argv = out.argv_inline;
  if (l.argv.size() + 1 > std::size(out.argv_inline)) {
    out.argv_heap.resize(l.argv.size() + 1);
    argv = out.argv_heap.data();
  }
  for (std::size_t i = 0; i < l.argv.size(); ++i) argv[i] = l.argv[i].c_str();
  argv[l.argv.size()] = nullptr;

  const char* const* env_pointer = environ;
  if (l.env) {
    // Unchanged environments pass `environ` through untouched: copying it for
    // every spawn would be most of the cost of a spawn.
    out.env_entries.reserve(l.env->size());
    out.envp.reserve(l.env->size() + 1);
    for (const auto& [name, value] : *l.env) {
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
  plan.search_path = out.searched_path ? child_search_path(l) : nullptr;
  plan.dir = l.dir ? l.dir->c_str() : nullptr;
  for (int target = 0; target < 3; ++target) plan.stdio[target] = l.streams[target].fd;
  plan.report = &out.report;
  if (l.group) plan.process_group = l.group->pgid;
  if (l.credentials.any()) {
    resolve_credentials(l.credentials, out.command_text(), out.credentials);
    plan.credentials = &out.credentials.plan;
  }
}

DUCTILE_INLINE std::string prepared_spawn::command_text() const {
  return launch.command ? subtree_text(*launch.command) : program;
}

DUCTILE_INLINE void prepared_spawn::throw_failure() const {
  throw_child_failure(launch, program, searched_path, report, credentials);
}

DUCTILE_INLINE spawned_process spawn_prepared(prepared_spawn& prepared) {
  void* stack_top = child_stack::top();
  if (stack_top == nullptr) {
    const std::error_code code(errno, std::generic_category());
    const std::string command = prepared.command_text();
    throw spawn_error(fmt::format("cannot run {}: cannot allocate a stack: {}", command, code.message()), command,
                      "clone", code);
  }

  // Every signal is blocked across clone so that no handler of the parent runs
  // in the child before it has reset its dispositions. The raw call also blocks
  // the signals glibc reserves for itself, which pthread_sigmask would not.
  unsigned long all_signals[2] = {~0UL, ~0UL};
  unsigned long previous_mask[2] = {0, 0};
  const int saved_errno = errno;
  int pidfd = -1;
#if DUCTILE_SPAWN_WITHOUT_SHARED_MEMORY
  // ThreadSanitizer cannot follow a child that shares the address space: here
  // the child gets a copy (fork semantics, still suspended until exec) and
  // reports over a close-on-exec pipe instead of through memory.
  // Made directly, not through the fault seam: this pipe stands in for the
  // shared memory of the other build, which cannot fail.
  pipe_ends report_pipe;
  int report_fds[2];
  if (::pipe2(report_fds, O_CLOEXEC) != 0) {
    const std::error_code error(errno, std::generic_category());
    const std::string command = prepared.command_text();
    throw spawn_error(fmt::format("cannot run {}: cannot make a pipe: {}", command, error.message()), command, "pipe",
                      error);
  }
  report_pipe.read.reset(sys::keep_above_stdio(report_fds[0]));
  report_pipe.write.reset(sys::keep_above_stdio(report_fds[1]));
  prepared.plan.report_fd = report_pipe.write.get();
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, all_signals, previous_mask, 8L);
  const int fault = sys::injected_fault(sys::call::clone);
  const long raw_pid = fault != 0 ? -1 : syscall(SYS_clone, CLONE_VFORK | clone_pidfd | SIGCHLD, 0, &pidfd, 0, 0);
  if (raw_pid == 0) child_main(&prepared.plan);
  const pid_t pid = static_cast<pid_t>(raw_pid);
  const int clone_errno = fault != 0 ? fault : errno;
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, previous_mask, nullptr, 8L);
  report_pipe.write.reset();
  for (child_report message;;) {
    std::size_t got = 0;
    if (pid < 0 || sys::read_some(report_pipe.read.get(), reinterpret_cast<char*>(&message), sizeof message, got) ||
        got != sizeof message)
      break;
    prepared.report.made_group = prepared.report.made_group || message.made_group;
    if (message.step != child_step::none) {
      prepared.report.step = message.step;
      prepared.report.error = message.error;
    }
  }
#else
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, all_signals, previous_mask, 8L);
  const int fault = sys::injected_fault(sys::call::clone);
  const pid_t pid = fault != 0 ? -1
                               : ::clone(child_main, stack_top, CLONE_VM | CLONE_VFORK | clone_pidfd | SIGCHLD,
                                         &prepared.plan, &pidfd);
  const int clone_errno = fault != 0 ? fault : errno;
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, previous_mask, nullptr, 8L);
#endif
  errno = saved_errno;

  if (pid < 0) {
    const std::error_code code(clone_errno, std::generic_category());
    const std::string command = prepared.command_text();
    throw spawn_error(fmt::format("cannot run {}: cannot create a process: {}", command, code.message()), command,
                      "clone", code);
  }
  spawned_process result{pid, unique_fd(sys::keep_above_stdio(pidfd)), prepared.launch.argv.front(), 0};
  if (prepared.report.step != child_step::none) {
    // The child has exited already (the parent resumed only after that): reap it.
    sys::reap_now(result.pidfd.get());
    prepared.throw_failure();
  }
  if (prepared.launch.group) {
    if (prepared.report.made_group) prepared.launch.group->pgid = pid;
    result.process_group = prepared.launch.group->pgid;
  }
  return result;
}

}  // namespace ductile::detail
