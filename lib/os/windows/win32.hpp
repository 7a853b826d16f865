#pragma once
// The Windows headers, included once and tamed (no min/max macros, nothing
// rarely used), and the conversions every Windows file needs: UTF-8 in the
// library, UTF-16 at the system's calls.

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
// <psapi.h> needs <windows.h> first.
// clang-format off
#include <windows.h>
#include <psapi.h>
// clang-format on

#include <string>
#include <string_view>
#include <system_error>

namespace ductile::detail::windows {

// UTF-8 to UTF-16; false (and `out` unspecified) for bytes that are not UTF-8.
bool widen(std::string_view utf8, std::wstring& out);
std::string narrow(std::wstring_view utf16);

// A Windows error as the library compares errors: the portable condition
// where one names it (no_such_file_or_directory, permission_denied, ...),
// else the system's own code and message.
std::error_code error_from(DWORD code) noexcept;
inline std::error_code last_error() noexcept { return error_from(::GetLastError()); }
// The errno a child's report carries for `code` (ENOENT, EACCES, ...).
int errno_from(DWORD code) noexcept;

}  // namespace ductile::detail::windows
