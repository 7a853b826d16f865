#pragma once
// What other users must not open or guess: the named pipes behind a run's
// streams and the directories the library keeps to itself. On POSIX an
// anonymous pipe has no name and mkdtemp's mode is 0700; here both need
// saying.

#include <string>

#include "os/windows/win32.hpp"

namespace ductile::detail::windows {

// Security attributes (not inheritable) whose DACL lets the current user, and
// nobody else, open the object, with no ACE inherited from a parent;
// nullptr if the process token cannot be read.
SECURITY_ATTRIBUTES* owner_only() noexcept;

// `count` random letters and digits from the system's generator, written
// over text[from, from + count); false if the generator failed.
bool fill_random_name(std::wstring& text, std::size_t from, std::size_t count) noexcept;
bool fill_random_name(std::string& text, std::size_t from, std::size_t count) noexcept;

}  // namespace ductile::detail::windows
