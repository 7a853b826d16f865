// start_detached(): a daemon through a double fork. This is the one place that
// forks instead of cloning with a shared address space: the first child must
// fork again, and a child that shares the caller's memory cannot.

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ductile/error.hpp>
#include <ductile/expression.hpp>
#include <ductile/format.hpp>
#include <stdexcept>

#include "os/linux/spawn.hpp"

namespace ductile {
namespace detail {

// A daemon's output goes to files or nowhere: there is nobody to capture it.
struct daemon_sink final : stream_sink {
  [[noreturn]] static void refuse(const char* what) {
    throw std::invalid_argument(fmt::format("start_detached(): a daemon cannot {}; redirect to a file instead", what));
  }
  stdio_target capture(stdio) override { refuse("capture its output"); }
  stdio_target tee(stdio, stdio_target) override { refuse("tee its output"); }
  stdio_target feed(std::shared_ptr<const std::string>) override { refuse("be fed stdin bytes"); }
};

}  // namespace detail

DUCTILE_INLINE pid_t expression::start_detached() const { return start_detached(detach_options{}); }

DUCTILE_INLINE pid_t expression::start_detached(const detach_options& options) const {
  using namespace detail;
  if (options.pid_file.find('\0') != std::string::npos)
    throw std::invalid_argument("start_detached(): the pid file name contains a NUL byte");
  // Failures are spawn_errors naming the command, like every failure to start.
  const auto fail = [this](const char* step, const char* what, const std::error_code& error) {
    const std::string command = to_string(*this);
    throw spawn_error(fmt::format("cannot run {}: cannot {}: {}", command, what, error.message()), command, step,
                      error);
  };
  context ctx;
  unique_fd null;
  if (const auto error = sys::open_file("/dev/null", O_RDWR, null)) fail("open stdin", "open /dev/null", error);
  auto shared_null = std::make_shared<const unique_fd>(std::move(null));
  for (auto& stream : ctx.streams) stream = stdio_target{shared_null->get(), shared_null};
  daemon_sink sink;
  auto plan = lower(*tree(), std::move(ctx), sink);
  if (plan->type != job::kind::process)
    throw std::invalid_argument("start_detached(): a daemon is one command, not a pipe or a sequence");

  process_launch launch = std::move(*plan->launch);
  if (!options.pid_file.empty()) launch.pid_file = options.pid_file;
  prepared_spawn prepared;
  prepare_spawn(std::move(launch), prepared);

  pipe_ends report;
  if (const auto error = sys::make_pipe(report)) fail("pipe", "make a pipe", error);
  daemon_settings settings;
  settings.report_fd = report.write.get();
  settings.pid_file = options.pid_file.empty() ? nullptr : options.pid_file.c_str();
  prepared.plan.daemon = &settings;

  unsigned long all_signals[2] = {~0UL, ~0UL};
  unsigned long previous_mask[2] = {0, 0};
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, all_signals, previous_mask, 8L);
  int pidfd = -1;
  const long first = syscall(SYS_clone, clone_pidfd | SIGCHLD, 0, &pidfd, 0, 0);
  if (first == 0) child_main(&prepared.plan);  // never returns
  const int fork_errno = errno;
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, previous_mask, nullptr, 8L);
  report.write.reset();
  const unique_fd intermediate(sys::keep_above_stdio(pidfd));
  const std::string command = prepared.command_text();
  if (first < 0) {
    const std::error_code code(fork_errno, std::generic_category());
    throw spawn_error(fmt::format("cannot run {}: cannot fork: {}", command, code.message()), command, "fork", code);
  }
  // The intermediate child exits as soon as it has forked the daemon. It is
  // reaped through its pidfd, like every child, never by pid.
  siginfo_t info{};
  if (sys::wait_process(intermediate.get(), info, WEXITED, nullptr)) sys::reap_now(intermediate.get());

  pid_t daemon = 0;
  for (;;) {
    daemon_message message;
    std::size_t got = 0;
    const auto error = sys::read_some(report.read.get(), reinterpret_cast<char*>(&message), sizeof message, got);
    if (error || got == 0) break;  // end of file: the daemon has exec'd (or never existed)
    if (message.kind == 0) {
      daemon = message.pid;
    } else {
      prepared.report.step = static_cast<child_step>(message.step);
      prepared.report.error = message.error;
      prepared.throw_failure();
    }
  }
  if (daemon == 0)
    throw spawn_error(fmt::format("cannot run {}: the daemon did not start", command), command, "fork",
                      std::error_code(ECHILD, std::generic_category()));
  return daemon;
}

}  // namespace ductile
