// What script_main() returns when its body throws: the status a shell gives.

#include <cerrno>
#include <cstdio>
#include <ductile/error.hpp>
#include <ductile/script.hpp>
#include <exception>

#include "common.hpp"

namespace ductile::detail {

DUCTILE_INLINE int shell_status(const std::exception& failure) noexcept {
  if (const auto* interrupted = dynamic_cast<const interrupted_error*>(&failure)) return 128 + interrupted->signal();
  if (const auto* status = dynamic_cast<const status_error*>(&failure)) {
    const exit_status ended = status->output().status;
    if (const auto signal = ended.signal()) return 128 + *signal;
    const int code = ended.code().value_or(1);
    return code != 0 ? code : 1;  // an ok_codes() list that left out 0 still failed
  }
  if (const auto* spawn = dynamic_cast<const spawn_error*>(&failure)) {
    if (spawn->step() == "exec" && spawn->code() == std::errc::no_such_file_or_directory) return 127;
    if (spawn->step() == "exec" && spawn->code() == std::errc::permission_denied) return 126;
  }
  return 1;
}

DUCTILE_INLINE int script_failure(std::exception_ptr failure) noexcept {
  std::fflush(stdout);  // what the script printed comes before the message
  try {
    std::rethrow_exception(failure);
  } catch (const ductile::error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return shell_status(e);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  } catch (...) {
    std::fprintf(stderr, "error: an exception that is not a std::exception\n");
    return 1;
  }
}

}  // namespace ductile::detail
