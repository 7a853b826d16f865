// Pseudo-terminals on Windows (pseudo consoles): not there yet.

#include "common.hpp"

#if DUCTILE_WINDOWS_BACKEND
#include "os/system_calls.hpp"
#include "os/terminal.hpp"

namespace ductile::detail::sys {

DUCTILE_INLINE std::error_code open_terminal(window_size, unique_fd&, unique_fd&) noexcept { return not_supported(); }
DUCTILE_INLINE std::error_code set_window_size(int, window_size) noexcept { return not_supported(); }
DUCTILE_INLINE window_size parent_window_size() noexcept { return window_size{24, 80}; }
DUCTILE_INLINE std::error_code terminal_input_mode(int, input_mode&) noexcept { return not_supported(); }

}  // namespace ductile::detail::sys
#endif  // DUCTILE_WINDOWS_BACKEND
