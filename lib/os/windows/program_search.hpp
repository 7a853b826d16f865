#pragma once
// Where Windows programs are found, the same for a start and for which():
// a path as it is (or with a PATHEXT extension), a bare name in each
// directory of PATH in turn, never the current directory or the parent's
// own, which CreateProcessW would try first.

#include <string>

namespace ductile::detail::windows {

// `searched`: a bare name is looked for in `path` (PATH's value); a name
// with a separator or a drive is a path either way. `extensions` is
// PATHEXT's value. True, with the file in `out`, when one is found.
bool find_program(const std::wstring& name, bool searched, const std::wstring& path, const std::wstring& extensions,
                  std::wstring& out);
// The parent's variable `name` (empty when unset).
std::wstring inherited_variable(const wchar_t* name);
// PATHEXT when the environment has none.
inline constexpr const wchar_t* default_extensions = L".COM;.EXE;.BAT;.CMD";
// `path` made absolute against this process's directory.
std::wstring full_path(const std::wstring& path);

}  // namespace ductile::detail::windows
