#pragma once
// The words of a status_error: which stage decided the status, the whole
// command, and the last lines the run captured on stderr, so that the one
// line a CI log shows says why a step failed. Pure functions of their input.

#include <ductile/output.hpp>
#include <string>
#include <string_view>

#include "common.hpp"

namespace ductile::detail {

// At most this much of stderr ends a status_error's message.
inline constexpr std::size_t tail_lines = 10;
inline constexpr std::size_t tail_bytes = 2048;

// "\nstderr:\n  line\n  line", or "\nstderr (truncated):\n..." when lines or
// bytes were left out; empty when `captured` holds nothing but newlines.
std::string stderr_tail(std::string_view captured);

// An exit code as a message shows it: decimal, and on Windows an exception
// or status code (from 0x80000000) in hex with its meaning where known,
// "0xC0000005 (access violation)".
std::string exit_code_text(exit_status::code_type code);

// "command <command> failed: <status>", or, when `stage` is not empty (a
// tree of more than one process), "<stage> exited with code 1: command
// <command> failed"; then `note` in parentheses (why a far side ended it),
// if any; then the stderr tail.
std::string failure_message(const std::string& command, const std::string& stage, const output& result,
                            const std::string& note = {});

// "command <command> timed out: <status>", then the stderr tail.
std::string timeout_message(const std::string& command, const output& result);

}  // namespace ductile::detail
