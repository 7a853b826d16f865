#pragma once
// The process-wide tracing switch and observer, read on every spawn.

#include <ductile/observe.hpp>
#include <memory>

#include "common.hpp"

namespace ductile::detail {

// Whether anything wants to hear about spawns; cheap enough for every spawn.
bool observing() noexcept;
bool tracing() noexcept;
std::shared_ptr<observer> current_observer();
void print_trace(const std::string& command) noexcept;

}  // namespace ductile::detail
