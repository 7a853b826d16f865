#pragma once
/// \file
/// fmt formatters: an expression prints as a person would type it in `sh`,
/// with every argument quoted so that pasting it into `sh` gives the same argv.

#include <fmt/core.h>

#include <string>
#include <string_view>

#include "expression.hpp"
#include "output.hpp"

namespace ductile {

/// The expression as `sh` text; modifiers without shell syntax appear in brackets.
std::string to_string(const expression& e);
/// "exit code 3", "signal 9 (SIGKILL)", "signal 11 (SIGSEGV, core dumped)".
std::string to_string(exit_status status);
/// The status and the sizes of the captured streams.
std::string to_string(const output& result);
/// `word` quoted for `sh` only where needed: `abc`, `'a b'`, `''`, `'it'\''s'`.
std::string shell_quote(std::string_view word);

namespace detail {
// Only core.h is included, which does not define formatter<string_view>::format
// for user formatters, so the text is copied out directly. No format specs.
template <class T>
struct to_string_formatter {
  constexpr auto parse(fmt::format_parse_context& ctx) -> decltype(ctx.begin()) { return ctx.begin(); }
  template <class FormatContext>
  auto format(const T& value, FormatContext& ctx) const -> decltype(ctx.out()) {
    const std::string text = ductile::to_string(value);
    auto out = ctx.out();
    for (char c : text) *out++ = c;
    return out;
  }
};
}  // namespace detail

}  // namespace ductile

template <>
struct fmt::formatter<ductile::expression> : ductile::detail::to_string_formatter<ductile::expression> {};
template <>
struct fmt::formatter<ductile::exit_status> : ductile::detail::to_string_formatter<ductile::exit_status> {};
template <>
struct fmt::formatter<ductile::output> : ductile::detail::to_string_formatter<ductile::output> {};
