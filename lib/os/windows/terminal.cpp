// pty() on Windows: a pseudo console (io_port.hpp's open_console). The
// master is read and written like a Linux master; the "slave" names the
// console, which a child is started in (start_child.cpp).

#include "common.hpp"

#if DUCTILE_WINDOWS_BACKEND
#include "os/system_calls.hpp"
#include "os/terminal.hpp"
#include "os/windows/io_port.hpp"

namespace ductile::detail::sys {

DUCTILE_INLINE std::error_code open_terminal(window_size size, unique_fd& master, unique_fd& slave) noexcept {
  int console = -1;
  if (const auto error =
          windows::open_console(static_cast<short>(size.rows), static_cast<short>(size.cols), master, console))
    return error;
  slave.reset(console);
  return {};
}

DUCTILE_INLINE std::error_code set_window_size(int master, window_size size) noexcept {
  void* console = windows::console_of(master);
  const auto& api = windows::pseudo_consoles();
  if (console == nullptr || api.resize == nullptr) return std::make_error_code(std::errc::bad_file_descriptor);
  const HRESULT result = api.resize(console, COORD{static_cast<SHORT>(size.cols), static_cast<SHORT>(size.rows)});
  return FAILED(result) ? windows::error_from(static_cast<DWORD>(HRESULT_CODE(result))) : std::error_code();
}

DUCTILE_INLINE window_size parent_window_size() noexcept {
  for (const DWORD stream : {STD_OUTPUT_HANDLE, STD_ERROR_HANDLE, STD_INPUT_HANDLE}) {
    CONSOLE_SCREEN_BUFFER_INFO info{};
    if (::GetConsoleScreenBufferInfo(::GetStdHandle(stream), &info)) {
      const auto rows = info.srWindow.Bottom - info.srWindow.Top + 1;
      const auto cols = info.srWindow.Right - info.srWindow.Left + 1;
      if (rows > 0 && cols > 0)
        return window_size{static_cast<unsigned short>(rows), static_cast<unsigned short>(cols)};
    }
  }
  return window_size{24, 80};
}

// A console reads its input line by line unless its program says otherwise,
// and Ctrl-Z ends it; the parent cannot see the program's mode, so it
// answers that.
DUCTILE_INLINE std::error_code terminal_input_mode(int master, input_mode& mode) noexcept {
  if (windows::console_of(master) == nullptr) return std::make_error_code(std::errc::bad_file_descriptor);
  mode.canonical = true;
  mode.end_of_file = '\x1a';
  return {};
}

}  // namespace ductile::detail::sys
#endif  // DUCTILE_WINDOWS_BACKEND
