#pragma once
// Every failure to start has one shape, "cannot run <command>: <cause>", and
// is thrown from one place.

#include <string>
#include <system_error>

namespace ductile::detail {

// Throws spawn_error naming `command`, the `step` that failed and its cause.
[[noreturn]] void throw_spawn_error(const std::string& command, std::string step, const std::string& cause,
                                    std::error_code code);
// The same for a system call that failed: the cause reads "cannot <what>: <reason>".
[[noreturn]] void throw_spawn_error(const std::string& command, std::string step, const char* what,
                                    std::error_code code);

}  // namespace ductile::detail
