#pragma once
/// \file
/// `cmdline()`: an expression from shell-like text with fmt-style placeholders,
/// parsed without any shell. A placeholder is always exactly one argument (or,
/// as a whole word given a range, one argument per element), whatever it contains.

#include <fmt/core.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "detail/cmdline_lexer.hpp"
#include "expression.hpp"

namespace ductile {

namespace detail {

// One argument of cmdline(), with its type erased.
struct cmdline_argument {
  // Formats the value with a fmt spec such as ">8" (empty for `{}`).
  shared_function<std::string(std::string_view spec)> format;
  // For a range: its elements, each formatted with `{}`.
  std::vector<std::string> elements;
  bool is_range = false;
  bool is_path = false;
};

template <class T>
cmdline_argument make_cmdline_argument(const T& value) {
  using U = remove_cvref_t<T>;
  cmdline_argument argument;
  if constexpr (is_path_like<U>::value) {
    argument.is_path = true;
    std::string text = path_text(value);
    argument.format = [text](std::string_view spec) {
      return fmt::vformat("{:" + std::string(spec) + "}", fmt::make_format_args(text));
    };
  } else if constexpr (!std::is_convertible_v<const T&, std::string_view> && is_range<U>::value) {
    argument.is_range = true;
    argument_list elements;
    for (const auto& element : value) append_argument(elements, element);
    argument.elements = elements;
    argument.format = [elements](std::string_view) {
      std::string joined;
      for (const auto& e : elements) joined += (joined.empty() ? "" : " ") + e;
      return joined;
    };
  } else {
    static_assert(!std::is_same_v<U, bool>, "cmdline(): a bool is not an argument; pass the text you mean");
    argument.format = [value](std::string_view spec) {
      return fmt::vformat("{:" + std::string(spec) + "}", fmt::make_format_args(value));
    };
  }
  return argument;
}

expression parse_cmdline(std::string_view text, const std::vector<cmdline_argument>& arguments);

// The placeholders of a format text, checked against the number of arguments
// with the lexer the parser uses: quotes, escapes and braces read the same,
// no mixing of `{}` and `{N}`, indices in range, every argument used.
// Returns the position of the first problem, or npos. What is not about
// placeholders ($, globs, operators) is left to the parser.
constexpr std::size_t check_placeholders(std::string_view text, std::size_t count) noexcept {
  struct checker {
    std::size_t count;
    std::size_t problem = cmdline_lexer::npos;
    unsigned long long used = 0;
    cmdline_lexer::placeholder_numbering numbering;

    constexpr void literal(char, bool, std::size_t) noexcept {}
    constexpr void quotes(std::size_t) noexcept {}
    constexpr void special(char, std::size_t) noexcept {}
    constexpr void placeholder(const cmdline_lexer::placeholder_text& p) noexcept {
      const std::size_t index = numbering.number(p);
      if (index == cmdline_lexer::npos || index >= count) {
        if (problem == cmdline_lexer::npos) problem = p.open;
      } else if (index < 64) {
        used |= 1ULL << index;
      }
    }
    constexpr void error(cmdline_lexer::lex_error, std::size_t position) noexcept {
      if (problem == cmdline_lexer::npos) problem = position;
    }
  };
  checker check{count, cmdline_lexer::npos, 0, {}};
  for (std::size_t i = cmdline_lexer::next_word(text, 0); i < text.size(); i = cmdline_lexer::next_word(text, i)) {
    i = cmdline_lexer::scan_word(text, i, check);
    if (check.problem != cmdline_lexer::npos) return check.problem;
  }
  for (std::size_t k = 0; k < count && k < 64; ++k)
    if ((check.used & (1ULL << k)) == 0) return text.size();
  return cmdline_lexer::npos;
}

#if defined(__cpp_consteval) && __cpp_consteval >= 201811L
#define DUCTILE_CMDLINE_CONSTEVAL consteval
#else
#define DUCTILE_CMDLINE_CONSTEVAL constexpr
#endif

// Accepts a literal and, in C++20, checks its placeholders at compile time.
template <class... Args>
class cmdline_format {
 public:
  template <class Text, std::enable_if_t<std::is_convertible_v<const Text&, std::string_view>, int> = 0>
  DUCTILE_CMDLINE_CONSTEVAL cmdline_format(const Text& text) : text_(text) {
#if defined(__cpp_consteval) && __cpp_consteval >= 201811L
    if (check_placeholders(text_, sizeof...(Args)) != static_cast<std::size_t>(-1))
      invalid_placeholders();  // not constexpr: a bad literal does not compile
#endif
  }
  constexpr std::string_view text() const noexcept { return text_; }

 private:
  static void invalid_placeholders() {}
  std::string_view text_;
};

#undef DUCTILE_CMDLINE_CONSTEVAL

template <class T>
struct type_identity {
  using type = T;
};

}  // namespace detail

/// Text not known at compile time, checked when parsed.
struct runtime_cmdline {
  std::string_view text;
};

/// Builds an expression from shell-like text: words, quotes, `|`, `&&`, `;`,
/// `( )`, `<`, `>`, `>>`, `2>`, `2>>`, `2>&1`, `>&2` and `NAME=value` prefixes.
/// No shell runs. Anything that would mean something else in a shell throws
/// parse_error saying what to write instead.
template <class... Args>
expression cmdline(typename detail::type_identity<detail::cmdline_format<Args...>>::type format, const Args&... args) {
  return detail::parse_cmdline(format.text(), {detail::make_cmdline_argument(args)...});
}

template <class... Args>
expression cmdline(runtime_cmdline format, const Args&... args) {
  return detail::parse_cmdline(format.text, {detail::make_cmdline_argument(args)...});
}

}  // namespace ductile
