#include "script_file.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string_view>

namespace ductile_script {

namespace {

std::vector<std::string> words(std::string_view text) {
  std::vector<std::string> out;
  std::istringstream in{std::string(text)};
  for (std::string word; in >> word;) out.push_back(word);
  return out;
}

bool leading_line(std::string_view line) {
  const auto start = line.find_first_not_of(" \t\r");
  if (start == std::string_view::npos) return true;
  line.remove_prefix(start);
  return line.substr(0, 2) == "//" || line.front() == '#';
}

}  // namespace

script_source read_script(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream content;
  content << in.rdbuf();
  const std::string file = content.str();

  script_source script;
  script.path = path;
  // `#line 1` numbers the next line 1: the blanked shebang keeps its place.
  // The name as a string literal: a quote, a backslash or a newline in it
  // would otherwise end the directive or the literal early.
  std::string quoted;
  for (const char c : path) {
    if (c == '"' || c == '\\')
      quoted += {'\\', c};
    else if (c == '\n')
      quoted += "\\n";
    else
      quoted += c;
  }
  script.text = "#line 1 \"" + quoted + "\"\n";
  bool leading = true;
  std::size_t at = 0;
  for (int number = 1; at < file.size(); ++number) {
    const std::size_t end = std::min(file.find('\n', at), file.size());
    const std::string_view line = std::string_view(file).substr(at, end - at);
    at = end + 1;
    if (number == 1 && line.substr(0, 2) == "#!") {
      script.text += '\n';
      continue;
    }
    if (leading && !leading_line(line)) leading = false;
    if (leading) {
      const auto directive = [&](std::string_view prefix, std::vector<std::string>& into) {
        if (line.substr(0, prefix.size()) != prefix) return;
        for (auto& word : words(line.substr(prefix.size()))) into.push_back(std::move(word));
      };
      directive("//! flags:", script.flags);
      directive("//! link:", script.link);
    }
    script.text.append(line);
    script.text += '\n';
  }
  return script;
}

}  // namespace ductile_script
