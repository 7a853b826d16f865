#include <ductile/error.hpp>

#include "common.hpp"
#include "model/failure.hpp"

namespace ductile {

DUCTILE_INLINE error::error(const std::string& message, std::string command)
    : std::runtime_error(message), command_(std::move(command)) {}

DUCTILE_INLINE spawn_error::spawn_error(const std::string& message, std::string command, std::string step,
                                        std::error_code code)
    : error(message, std::move(command)), step_(std::move(step)), code_(code) {}

DUCTILE_INLINE status_error::status_error(const std::string& message, std::string command, ductile::output result)
    : error(message, std::move(command)), output_(std::make_shared<const ductile::output>(std::move(result))) {}

DUCTILE_INLINE interrupted_error::interrupted_error(const std::string& message, std::string command, int signal)
    : error(message, std::move(command)), signal_(signal) {}

DUCTILE_INLINE parse_error::parse_error(const std::string& message, std::string text, std::size_t position)
    : error(message, std::move(text)), position_(position) {}

namespace detail {

DUCTILE_INLINE void throw_spawn_error(const std::string& command, std::string step, const std::string& cause,
                                      std::error_code code) {
  throw spawn_error("cannot run " + command + ": " + cause, command, std::move(step), code);
}

DUCTILE_INLINE void throw_spawn_error(const std::string& command, std::string step, const char* what,
                                      std::error_code code) {
  throw_spawn_error(command, std::move(step), std::string("cannot ") + what + ": " + code.message(), code);
}

}  // namespace detail

}  // namespace ductile
