#include "run/line_batch.hpp"

#include <string_view>

namespace ductile::detail {

DUCTILE_INLINE void deliver_lines(const line_batch& batch) {
  std::string_view rest = batch.bytes;
  while (!rest.empty()) {
    const std::size_t newline = rest.find('\n');
    std::string_view line = rest.substr(0, newline);
    rest = newline == std::string_view::npos ? std::string_view() : rest.substr(newline + 1);
    if (newline != std::string_view::npos && !line.empty() && line.back() == '\r') line.remove_suffix(1);
    batch.on_line(line);
  }
}

}  // namespace ductile::detail
