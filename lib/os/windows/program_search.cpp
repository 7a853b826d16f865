#include "common.hpp"

#if DUCTILE_WINDOWS_BACKEND
#include <algorithm>

#include "os/windows/program_search.hpp"
#include "os/windows/win32.hpp"

namespace ductile::detail::windows {

DUCTILE_INLINE std::wstring inherited_variable(const wchar_t* name) {
  std::wstring value(256, L'\0');
  for (;;) {
    const DWORD size = ::GetEnvironmentVariableW(name, value.data(), static_cast<DWORD>(value.size()));
    if (size == 0) return {};
    if (size < value.size()) {
      value.resize(size);
      return value;
    }
    value.resize(size);
  }
}

DUCTILE_INLINE bool is_file(const std::wstring& path) {
  const DWORD attributes = ::GetFileAttributesW(path.c_str());
  return attributes != INVALID_FILE_ATTRIBUTES && !(attributes & FILE_ATTRIBUTE_DIRECTORY);
}

DUCTILE_INLINE bool has_extension(std::wstring_view path) {
  const std::size_t dot = path.find_last_of(L'.');
  const std::size_t slash = path.find_last_of(L"\\/");
  return dot != std::wstring_view::npos && (slash == std::wstring_view::npos || dot > slash);
}

// `path` itself if it names a file, else with each PATHEXT extension in turn.
DUCTILE_INLINE bool resolve_file(const std::wstring& path, const std::wstring& extensions, std::wstring& out) {
  if (has_extension(path) && is_file(path)) {
    out = path;
    return true;
  }
  for (std::size_t start = 0; start <= extensions.size();) {
    std::size_t end = extensions.find(L';', start);
    if (end == std::wstring::npos) end = extensions.size();
    if (end > start) {
      std::wstring candidate = path + extensions.substr(start, end - start);
      if (is_file(candidate)) {
        out = std::move(candidate);
        return true;
      }
    }
    start = end + 1;
  }
  if (!has_extension(path) && is_file(path)) {
    out = path;
    return true;
  }
  return false;
}

// Where a bare name is looked for: the child's PATH, in order; never the
// current directory or this program's, which CreateProcessW would try first.
DUCTILE_INLINE bool find_program(const std::wstring& name, bool searched, const std::wstring& path,
                                 const std::wstring& extensions, std::wstring& out) {
  const bool is_path = !searched || name.find_first_of(L"\\/:") != std::wstring::npos;
  if (is_path) return resolve_file(name, extensions, out);
  for (std::size_t start = 0; start <= path.size();) {
    std::size_t end = path.find(L';', start);
    if (end == std::wstring::npos) end = path.size();
    std::wstring directory = path.substr(start, end - start);
    directory.erase(std::remove(directory.begin(), directory.end(), L'"'), directory.end());
    if (!directory.empty()) {
      if (directory.back() != L'\\' && directory.back() != L'/') directory += L'\\';
      if (resolve_file(directory + name, extensions, out)) return true;
    }
    start = end + 1;
  }
  return false;
}

DUCTILE_INLINE std::wstring full_path(const std::wstring& path) {
  std::wstring full(MAX_PATH, L'\0');
  for (;;) {
    const DWORD size = ::GetFullPathNameW(path.c_str(), static_cast<DWORD>(full.size()), full.data(), nullptr);
    if (size == 0) return path;
    if (size < full.size()) {
      full.resize(size);
      return full;
    }
    full.resize(size);
  }
}

}  // namespace ductile::detail::windows
#endif  // DUCTILE_WINDOWS_BACKEND
