#pragma once
// Lines on their way to a stdout_lines()/stderr_lines() callback: taken from
// the stream pump under the run's lock, passed on with no lock held.

#include <string>

#include "model/tree.hpp"

namespace ductile::detail {

struct line_batch {
  line_function on_line;
  std::string bytes;  // whole lines; the last may lack its newline at end of file
};

// Calls `on_line` once per line of `bytes`, without `\n` or `\r\n`.
void deliver_lines(const line_batch& batch);

}  // namespace ductile::detail
