#include "common.hpp"

#if DUCTILE_WINDOWS_BACKEND
#include "os/windows/command_line.hpp"

namespace ductile::detail::windows {

DUCTILE_INLINE void append_argument(std::wstring& line, std::wstring_view arg) {
  if (!line.empty()) line += L' ';
  const bool plain = !arg.empty() && arg.find_first_of(L" \t\n\v\"") == std::wstring_view::npos;
  if (plain) {
    line.append(arg);
    return;
  }
  line += L'"';
  std::size_t backslashes = 0;
  for (const wchar_t c : arg) {
    if (c == L'\\') {
      ++backslashes;
      continue;
    }
    // Backslashes before a quote escape each other and the quote.
    if (c == L'"') backslashes = backslashes * 2 + 1;
    line.append(backslashes, L'\\');
    backslashes = 0;
    line += c;
  }
  line.append(backslashes * 2, L'\\');  // before the closing quote, they escape each other
  line += L'"';
}

DUCTILE_INLINE bool append_program_name(std::wstring& line, std::wstring_view name) {
  if (name.find(L'"') != std::wstring_view::npos) return false;
  if (!line.empty()) line += L' ';
  line += L'"';
  line.append(name);
  line += L'"';
  return true;
}

DUCTILE_INLINE bool append_batch_argument(std::wstring& line, std::wstring_view arg) {
  bool quote = arg.empty();
  for (const wchar_t c : arg) {
    if (c == L'"' || c == L'%' || c < 0x20 || c == 0x7f) return false;
    const bool plain = (c >= L'a' && c <= L'z') || (c >= L'A' && c <= L'Z') || (c >= L'0' && c <= L'9') ||
                       std::wstring_view(L"#$*+-./:?@\\_").find(c) != std::wstring_view::npos || c > 0x7f;
    if (!plain) quote = true;
  }
  // A trailing backslash would escape the closing quote for a program the
  // script hands %* to: doubled, as the C runtime reads it back as one.
  if (!arg.empty() && arg.back() == L'\\') quote = true;
  if (!line.empty()) line += L' ';
  if (!quote) {
    line.append(arg);
    return true;
  }
  line += L'"';
  line.append(arg);
  if (!arg.empty() && arg.back() == L'\\') {
    std::size_t trailing = 0;
    for (auto it = arg.rbegin(); it != arg.rend() && *it == L'\\'; ++it) ++trailing;
    line.append(trailing, L'\\');
  }
  line += L'"';
  return true;
}

DUCTILE_INLINE bool is_batch_file(std::wstring_view path) {
  if (path.size() < 4) return false;
  std::wstring tail(path.substr(path.size() - 4));
  for (auto& c : tail)
    if (c >= L'A' && c <= L'Z') c = static_cast<wchar_t>(c - L'A' + L'a');
  return tail == L".bat" || tail == L".cmd";
}

}  // namespace ductile::detail::windows
#endif  // DUCTILE_WINDOWS_BACKEND
