#pragma once
// The parser of /proc/PID/stat, on its own so that tests can give it the
// text of kernels older and newer than the one they run on.

#include <sys/types.h>

#include <cstdint>
#include <ductile/proc.hpp>
#include <string_view>

#if defined(__linux__)

namespace ductile::proc::detail {

struct parsed_stat {
  stat_info info;
  std::uint64_t start_ticks = 0;  // field 22, in clock ticks since boot
};

// Parses from the last ')': the comm before it may hold anything. Fields a
// newer kernel appends are ignored; `processor` (field 39) is 0 on kernels
// that lack it. Throws error (EPROTO) for text without the fields up to rss.
void parse_stat(pid_t pid, std::string_view text, parsed_stat& out);

}  // namespace ductile::proc::detail

#endif  // __linux__
