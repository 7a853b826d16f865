#include "model/status_message.hpp"

#include <fmt/format.h>

#include <ductile/format.hpp>
#include <vector>

namespace ductile::detail {

DUCTILE_INLINE std::string stderr_tail(std::string_view captured) {
  while (!captured.empty() && (captured.back() == '\n' || captured.back() == '\r')) captured.remove_suffix(1);
  if (captured.empty()) return {};
  std::vector<std::string_view> kept;  // last line first
  std::size_t bytes = 0;
  bool truncated = false;
  std::string_view rest = captured;
  for (;;) {
    const std::size_t newline = rest.rfind('\n');
    std::string_view line = newline == std::string_view::npos ? rest : rest.substr(newline + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (kept.size() == tail_lines || bytes + line.size() > tail_bytes) {
      if (kept.empty()) kept.push_back(line.substr(line.size() - tail_bytes));  // one huge line: its end
      truncated = true;
      break;
    }
    kept.push_back(line);
    bytes += line.size();
    if (newline == std::string_view::npos) break;
    rest = rest.substr(0, newline);
  }
  std::string text = truncated ? "\nstderr (truncated):" : "\nstderr:";
  for (auto line = kept.rbegin(); line != kept.rend(); ++line) {
    text += "\n  ";
    text += *line;
  }
  return text;
}

DUCTILE_INLINE std::string failure_message(const std::string& command, const std::string& stage, const output& result,
                                           const std::string& note) {
  std::string text;
  if (stage.empty()) {
    text = fmt::format("command {} failed: {}", command, to_string(result.status));
  } else if (const auto code = result.status.code()) {
    text = fmt::format("{} exited with code {}: command {} failed", stage, exit_code_text(*code), command);
  } else {
    text = fmt::format("{} was killed by {}: command {} failed", stage, to_string(result.status), command);
  }
  if (!note.empty()) text += " (" + note + ")";
  return text + stderr_tail(result.stderr_bytes);
}

DUCTILE_INLINE std::string timeout_message(const std::string& command, const output& result) {
  return fmt::format("command {} timed out: {}", command, to_string(result.status)) + stderr_tail(result.stderr_bytes);
}

}  // namespace ductile::detail
