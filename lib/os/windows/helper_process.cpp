// Helper commands (ssh's control commands): remote hosts are not supported
// on Windows, so none is ever run.

#include "common.hpp"

#if DUCTILE_WINDOWS_BACKEND
#include <filesystem>

#include "os/helper_process.hpp"
#include "os/system_calls.hpp"

namespace ductile::detail::sys {

DUCTILE_INLINE std::error_code run_helper(const std::vector<const char*>&) noexcept { return not_supported(); }

DUCTILE_INLINE std::error_code run_helper_with_input(const std::vector<const char*>&, std::string_view,
                                                     int& exit_code) noexcept {
  exit_code = -1;
  return not_supported();
}

DUCTILE_INLINE std::error_code run_helper_for_output(const std::vector<const char*>&, std::string& printed,
                                                     int& exit_code) noexcept {
  printed.clear();
  exit_code = -1;
  return not_supported();
}

DUCTILE_INLINE void remove_flat_directory(const std::string& path) noexcept {
  std::error_code ignored;
  std::filesystem::remove_all(path, ignored);
}

}  // namespace ductile::detail::sys
#endif  // DUCTILE_WINDOWS_BACKEND
