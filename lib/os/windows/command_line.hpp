#pragma once
// Windows passes a child one command line, which the child splits itself:
// CommandLineToArgvW and the C runtime split it alike, and cmd.exe (for a
// batch file) in its own way. These build the line so that the child reads
// back exactly the arguments it was given, or refuse.

#include <string>
#include <string_view>

namespace ductile::detail::windows {

// Appends `arg`, quoted where it must be: backslashes are doubled only
// before a quote (written \") and before the closing quote.
void append_argument(std::wstring& line, std::wstring_view arg);

// The program's own name is read without escapes: it is quoted whole, and
// one holding a quote cannot be passed (false).
bool append_program_name(std::wstring& line, std::wstring_view name);

// A batch file's argument, as cmd.exe and the script's %1 or %* receive it:
// quoted unless it is plain ([A-Za-z0-9] and #$*+-./:?@\_, or non-ASCII).
// False for what cmd.exe cannot receive unchanged: a quote, a percent sign
// (expanded even inside quotes), a line break or another control character.
bool append_batch_argument(std::wstring& line, std::wstring_view arg);

// A program Windows runs through cmd.exe: a name ending in .bat or .cmd.
bool is_batch_file(std::wstring_view path);

}  // namespace ductile::detail::windows
