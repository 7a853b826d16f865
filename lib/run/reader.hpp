#pragma once
// Reading a started run's stdout on the caller's thread, as bytes or lines.

#include <memory>
#include <string>

#include "run/execution.hpp"

namespace ductile::detail {

class stdout_reader {
 public:
  stdout_reader(std::shared_ptr<execution> run, unique_fd pipe) noexcept;
  // Kills and reaps the run if it is still going.
  ~stdout_reader();
  stdout_reader(const stdout_reader&) = delete;
  stdout_reader& operator=(const stdout_reader&) = delete;

  std::size_t read(char* buffer, std::size_t n);
  // Moves to the next line; false at the end (after throwing a checked failure once).
  bool next_line();
  // Reads the first line unless a line was already asked for.
  void begin_lines();
  bool has_line() const noexcept { return has_line_; }
  // The current line, which counts as handed out from now on.
  const std::string& line() noexcept;
  // The handle's try_wait(): a failure it throws is not thrown again at the end of the stream.
  const output* try_wait();
  execution& run() noexcept { return *run_; }

 private:
  void reach_end();

  std::shared_ptr<execution> run_;
  unique_fd pipe_;
  std::string buffer_;
  std::size_t consumed_ = 0;
  bool end_of_pipe_ = false;
  bool end_reported_ = false;
  bool lines_started_ = false;
  bool has_line_ = false;
  bool line_handed_out_ = false;
  std::string line_;
};

}  // namespace ductile::detail
