#pragma once
// What MAKEFLAGS says about a jobserver: pure text handling, unit-tested.

#include <string>
#include <string_view>

namespace ductile::detail {

struct jobserver_auth {
  enum class style { none, fifo, descriptors };
  style kind = style::none;
  std::string fifo_path;  // style::fifo
  int read_fd = -1;       // style::descriptors
  int write_fd = -1;
  std::string text;  // the option as MAKEFLAGS spelled it, for messages
};

// The last --jobserver-auth= (or make 4.1's --jobserver-fds=) wins, as it does
// for make itself; a value that is neither `fifo:PATH` nor `R,W` is none.
jobserver_auth parse_jobserver_auth(std::string_view makeflags);

// A descriptor the library keeps for the life of the process, moved off the
// numbers this process's MAKEFLAGS names for a jobserver: where make closed
// them (a rule without '+'), one of ours there would be taken for make's.
// Returns the descriptor's number, `fd` itself if it was not in the way.
int keep_off_jobserver_numbers(int fd) noexcept;

// What a pool serving a jobserver puts in its children's MAKEFLAGS. Every
// reader takes the last option, so the descriptors, which make 4.3 needs and
// 4.4 understands too, come last.
std::string served_makeflags(const std::string& fifo_path, int read_fd, int write_fd);

}  // namespace ductile::detail
