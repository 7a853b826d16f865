// start_detached(): a daemon through a double fork. This is the one place that
// forks instead of cloning with a shared address space: the first child must
// fork again, and a child that shares the caller's memory cannot.

#include <fcntl.h>
#include <fmt/format.h>

#include <ductile/error.hpp>
#include <ductile/expression.hpp>
#include <ductile/format.hpp>
#include <stdexcept>

#include "model/failure.hpp"
#include "os/start_child.hpp"
#include "run/spawn.hpp"

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
  stdio_target lines(stdio, line_function) override { refuse("pass its output lines to a callback"); }
  stdio_target caller_pipe() override { refuse("read a stdin_pipe()"); }
  void combine() override { refuse("capture its output"); }
  stdio_target terminal(const std::optional<pty_size>&, stdio_target, stdio_target,
                        std::shared_ptr<terminal_slot>&) override {
    refuse("have a pseudo-terminal");
  }
};

}  // namespace detail

DUCTILE_INLINE process_id expression::start_detached() const { return start_detached(detach_options{}); }

DUCTILE_INLINE process_id expression::start_detached(const detach_options& options) const {
  using namespace detail;
  if (options.pid_file.find('\0') != std::string::npos)
    throw std::invalid_argument("start_detached(): the pid file name contains a NUL byte");
  context ctx;
  unique_fd null;
  if (const auto error = sys::open_file(sys::null_device, O_RDWR, null))
    throw_spawn_error(to_string(*this), "open stdin", "open /dev/null", error);
  auto shared_null = std::make_shared<const unique_fd>(std::move(null));
  for (auto& stream : ctx.streams) stream = stdio_target{shared_null->get(), shared_null};
  daemon_sink sink;
  auto plan = lower(*tree(), std::move(ctx), sink);
  if (plan->type == job::kind::contained)
    throw std::invalid_argument("start_detached(): a daemon outlives its parent; own_cgroup() cannot apply");
  if (plan->type != job::kind::process)
    throw std::invalid_argument("start_detached(): a daemon is one command, not a pipe or a sequence");

  process_launch launch = std::move(*plan->launch);
  if (launch.settings.kill_on_parent_exit)
    throw std::invalid_argument("start_detached(): a daemon outlives its parent; kill_on_parent_exit() cannot apply");
  if (!options.pid_file.empty()) launch.pid_file = options.pid_file;
  prepared_spawn prepared;
  prepare_spawn(std::move(launch), prepared);

  daemon_settings settings;
  settings.pid_file = options.pid_file.empty() ? nullptr : options.pid_file.c_str();
  prepared.plan.daemon = &settings;
  const started_child child = start_child(prepared.plan, prepared.report, start_mode::daemon);
  prepared.throw_if_failed(child);
  if (child.process.pid == 0)
    throw_spawn_error(prepared.command_text(), "fork", "the daemon did not start",
                      std::error_code(ECHILD, std::generic_category()));
  return child.process.pid;
}

}  // namespace ductile
