#pragma once
// Reading a started run's stdout (or stderr) on the caller's thread, as bytes
// or lines, with or without a deadline.

#include <chrono>
#include <ductile/handle.hpp>
#include <memory>
#include <optional>
#include <string>

#include "run/execution.hpp"
#include "run/input_channel.hpp"

namespace ductile::detail {

class stdout_reader final : public drain_while_writing {
 public:
  stdout_reader(std::shared_ptr<execution> run, unique_fd pipe) noexcept;
  // Kills and reaps the run if it is still going, unless detached.
  ~stdout_reader() override;
  stdout_reader(const stdout_reader&) = delete;
  stdout_reader& operator=(const stdout_reader&) = delete;

  std::size_t read(char* buffer, std::size_t n);
  // Empty if nothing came before `deadline`.
  std::optional<std::size_t> read_until(char* buffer, std::size_t n, steady_time deadline);
  std::optional<bool> read_line_until(std::string& line, steady_time deadline);
  // Moves to the next line; false at the end (after throwing a checked failure once).
  bool next_line();
  // Reads the first line unless a line was already asked for.
  void begin_lines();
  bool has_line() const noexcept { return has_line_; }
  // The current line, which counts as handed out from now on.
  const std::string& line() noexcept;
  // Waits for the run to finish, or for `deadline`, reading the output into
  // the buffer meanwhile so that a full pipe cannot stall the run; whether it finished.
  bool await_finish(const std::optional<steady_time>& deadline);
  // The run's result; a failure it throws is not thrown again at the end of the stream.
  const output& result();
  // The handle's try_wait().
  const output* try_wait();
  input_stream& input();
  void detach() noexcept { detached_ = true; }
  execution& run() noexcept { return *run_; }

  // drain_while_writing: a write to stdin_pipe() that waits reads the output meanwhile.
  int drain_fd() noexcept override { return end_of_pipe_ ? -1 : pipe_.get(); }
  void drain() override { fill_buffer(); }

 private:
  void reach_end();
  // One read from the pipe appended to the buffer; notes the end of the pipe.
  void fill_buffer();
  // Waits until the pipe is readable or `deadline`; false on timeout.
  bool wait_readable(const std::optional<steady_time>& deadline);
  // Moves the next whole line (or, at the end, the rest) into `line_`.
  bool take_line();

  std::shared_ptr<execution> run_;
  unique_fd pipe_;
  std::string buffer_;
  std::size_t consumed_ = 0;
  bool end_of_pipe_ = false;
  bool end_reported_ = false;
  bool lines_started_ = false;
  bool has_line_ = false;
  bool line_handed_out_ = false;
  bool detached_ = false;
  std::string line_;
  std::shared_ptr<input_channel> channel_;  // stdin_pipe(), once input() was asked for
  input_stream input_;
};

}  // namespace ductile::detail
