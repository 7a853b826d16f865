#pragma once
// Pseudo-terminals for pty(): a master the event loop serves and a slave the
// children get as stdin, stdout and stderr.

#include <system_error>

#include "os/descriptor.hpp"

namespace ductile::detail::sys {

struct window_size {
  unsigned short rows;
  unsigned short cols;
};

// A new pseudo-terminal: both ends close-on-exec, neither our controlling
// terminal; the master non-blocking. Its window is `size`.
std::error_code open_terminal(window_size size, unique_fd& master, unique_fd& slave) noexcept;
// Sets the window size; the kernel sends SIGWINCH to the foreground group.
std::error_code set_window_size(int master, window_size size) noexcept;
// The size of the terminal on the parent's stdin, stdout or stderr, else 24x80.
window_size parent_window_size() noexcept;

// How the slave reads its input now, seen through the master (which shares
// the slave's settings): line by line (canonical) or byte by byte, and the
// character that ends input in canonical mode.
struct input_mode {
  bool canonical = true;
  char end_of_file = '\x04';
  bool operator==(const input_mode& other) const noexcept {
    return canonical == other.canonical && end_of_file == other.end_of_file;
  }
  bool operator!=(const input_mode& other) const noexcept { return !(*this == other); }
};
std::error_code terminal_input_mode(int master, input_mode& mode) noexcept;

}  // namespace ductile::detail::sys
