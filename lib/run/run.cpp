// The entry points that lower an expression onto processes.

#include <fmt/format.h>

#include <ductile/error.hpp>
#include <ductile/expression.hpp>
#include <ductile/format.hpp>
#include <ductile/handle.hpp>

#include "model/failure.hpp"
#include "run/driver.hpp"
#include "run/reader.hpp"
#include "run/run_alone.hpp"

namespace ductile {

// run() and read() drive their run on the calling thread and share it with
// nobody, so it lives on the stack.
DUCTILE_INLINE output expression::run() const {
  if (detail::may_run_alone(*this)) return detail::run_alone(*this);
  detail::execution run(*this);
  run.close_input();  // nobody can write to it: the children see end of file
  run.start(detail::context{});
  run.drive_to_completion();
  return run.take_result();
}

DUCTILE_INLINE std::string expression::read() const {
  detail::execution run(*this);
  detail::context ctx;
  ctx.streams[1] = run.streams().capture(detail::stdio::out);
  run.close_input();
  run.start(std::move(ctx));
  run.drive_to_completion();
  std::string text = run.take_result().stdout_bytes;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

DUCTILE_INLINE handle expression::start() const {
  // The thread first: if it cannot be made, nothing has started.
  auto& driver = detail::background_driver::instance_for(*this);
  auto run = std::make_shared<detail::execution>(*this);
  run->start(detail::context{});
  driver.adopt(run);
  return handle(std::move(run));
}

namespace detail {

// Starts `command` with its stdout or stderr going into a pipe the caller reads.
DUCTILE_INLINE reader_handle start_reader(const expression& command, stdio stream) {
  auto& driver = background_driver::instance_for(command);
  auto run = std::make_shared<execution>(command);
  pipe_ends ends;
  if (const auto error = sys::make_parent_pipe(ends, true)) {
    const std::string text = to_string(command);
    throw_spawn_error(text, "pipe", "make a pipe", error);
  }
  context ctx;
  auto write_end = std::make_shared<const unique_fd>(std::move(ends.write));
  ctx.streams[static_cast<int>(stream)] = stdio_target{write_end->get(), std::move(write_end)};
  run->start(std::move(ctx));
  driver.adopt(run);
  return reader_handle(std::make_shared<stdout_reader>(std::move(run), std::move(ends.read)));
}

}  // namespace detail

DUCTILE_INLINE reader_handle expression::reader() const { return detail::start_reader(*this, detail::stdio::out); }

DUCTILE_INLINE reader_handle expression::stderr_reader() const {
  return detail::start_reader(*this, detail::stdio::err);
}

DUCTILE_INLINE line_range expression::lines() const { return reader().lines(); }

}  // namespace ductile
