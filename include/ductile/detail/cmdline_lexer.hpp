#pragma once
// The lexical grammar of cmdline() text, in one constexpr scanner: quotes,
// escapes, doubled braces and placeholders. The C++20 compile-time check of
// a literal and the runtime parser both read words through scan_word(), so
// they cannot disagree about where a placeholder is. Not public API.

#include <cstddef>
#include <string_view>

namespace ductile::detail::cmdline_lexer {

inline constexpr std::size_t npos = static_cast<std::size_t>(-1);
// A width or precision is padding the program would receive: keep it sane.
inline constexpr std::size_t max_spec_number = 4096;

enum class lex_error {
  unbalanced_single_quote,
  unbalanced_double_quote,
  trailing_backslash,
  unterminated_placeholder,
  unmatched_close_brace,
  spec_too_wide,
  mixed_numbering,
};

constexpr bool is_blank(char c) noexcept { return c == ' ' || c == '\t'; }
// Characters that end a word outside quotes: blanks and operators.
constexpr bool ends_word(char c) noexcept {
  return is_blank(c) || c == '\n' || c == '|' || c == '&' || c == ';' || c == '(' || c == ')' || c == '<' || c == '>';
}

// One placeholder, `{}`, `{N}`, `{:spec}` or `{N:spec}`, as it was written.
struct placeholder_text {
  std::size_t open = 0;  // the position of '{'
  bool has_index = false;
  std::size_t index = 0;
  std::string_view spec;
  bool quoted = false;
};

// Numbers the placeholders of one text: all `{}` or all `{N}`, never both.
class placeholder_numbering {
 public:
  // The argument index of `p`, or npos when it mixes numbering styles.
  constexpr std::size_t number(const placeholder_text& p) noexcept {
    if (p.has_index) {
      if (automatic_ > 0) return npos;
      manual_ = true;
      return p.index;
    }
    if (manual_) return npos;
    return automatic_++;
  }

 private:
  std::size_t automatic_ = 0;
  bool manual_ = false;
};

// Reads `{...}` at `i` (text[i] == '{', not doubled). Returns the position
// just past it and fills `out`, or npos with `error` set.
constexpr std::size_t scan_placeholder(std::string_view text, std::size_t i, bool quoted, placeholder_text& out,
                                       lex_error& error) noexcept {
  out = placeholder_text{};
  out.open = i;
  out.quoted = quoted;
  ++i;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    out.index = out.index * 10 + static_cast<std::size_t>(text[i] - '0');
    if (out.index > 1000000) out.index = 1000000;
    out.has_index = true;
    ++i;
  }
  if (i < text.size() && text[i] == ':') {
    const std::size_t spec_begin = ++i;
    while (i < text.size() && text[i] != '}') ++i;
    out.spec = text.substr(spec_begin, i - spec_begin);
  }
  if (i >= text.size() || text[i] != '}') {
    error = lex_error::unterminated_placeholder;
    return npos;
  }
  std::size_t number = 0;
  for (const char d : out.spec) {
    number = (d >= '0' && d <= '9') ? number * 10 + static_cast<std::size_t>(d - '0') : 0;
    if (number > max_spec_number) {
      error = lex_error::spec_too_wide;
      return npos;
    }
  }
  return i + 1;
}

// A brace at `i`, quoted or not: `{{` and `}}` are text, `{` opens a
// placeholder, a lone `}` is an error. Returns the position past it, or npos
// after sink.error().
template <class Sink>
constexpr std::size_t scan_brace(std::string_view text, std::size_t i, bool quoted, Sink& sink) {
  const char c = text[i];
  if (i + 1 < text.size() && text[i + 1] == c) {
    sink.literal(c, quoted, i);
    return i + 2;
  }
  if (c == '}') {
    sink.error(lex_error::unmatched_close_brace, i);
    return npos;
  }
  placeholder_text p;
  lex_error error{};
  const std::size_t end = scan_placeholder(text, i, quoted, p, error);
  if (end == npos) {
    sink.error(error, p.open);
    return npos;
  }
  sink.placeholder(p);
  return end;
}

// Scans one word starting at `i` (not at a blank or an operator) and reports
// its pieces to `sink`:
//   sink.literal(char c, bool quoted, std::size_t position)  one character of text
//   sink.quotes(std::size_t position)                        a quote opened (so '' is a word)
//   sink.placeholder(const placeholder_text&)                a placeholder
//   sink.special(char c, std::size_t position)               an unquoted (or, for $ and `,
//                                                              double-quoted) character a shell
//                                                              would expand: $ ` * ? [
//   sink.error(lex_error, std::size_t position)              the text cannot be read
// Returns the position just past the word, or npos after sink.error().
template <class Sink>
constexpr std::size_t scan_word(std::string_view text, std::size_t i, Sink& sink) {
  while (i < text.size() && !ends_word(text[i])) {
    const char c = text[i];
    if (c == '\'') {
      const std::size_t open = i++;
      sink.quotes(open);
      while (i < text.size() && text[i] != '\'') {
        sink.literal(text[i], true, i);
        ++i;
      }
      if (i >= text.size()) {
        sink.error(lex_error::unbalanced_single_quote, open);
        return npos;
      }
      ++i;
    } else if (c == '"') {
      const std::size_t open = i++;
      sink.quotes(open);
      while (i < text.size() && text[i] != '"') {
        const char d = text[i];
        if (d == '\\' && i + 1 < text.size() &&
            (text[i + 1] == '"' || text[i + 1] == '\\' || text[i + 1] == '$' || text[i + 1] == '`')) {
          sink.literal(text[i + 1], true, i + 1);
          i += 2;
        } else if (d == '$' || d == '`') {
          sink.special(d, i);
          ++i;
        } else if (d == '{' || d == '}') {
          i = scan_brace(text, i, true, sink);
          if (i == npos) return npos;
        } else {
          sink.literal(d, true, i);
          ++i;
        }
      }
      if (i >= text.size()) {
        sink.error(lex_error::unbalanced_double_quote, open);
        return npos;
      }
      ++i;
    } else if (c == '\\') {
      if (i + 1 >= text.size()) {
        sink.error(lex_error::trailing_backslash, i);
        return npos;
      }
      if (text[i + 1] != '\n') sink.literal(text[i + 1], true, i + 1);
      i += 2;
    } else if (c == '{' || c == '}') {
      i = scan_brace(text, i, false, sink);
      if (i == npos) return npos;
    } else {
      if (c == '$' || c == '`' || c == '*' || c == '?' || c == '[') sink.special(c, i);
      sink.literal(c, false, i);
      ++i;
    }
  }
  return i;
}

// Where the next word starts at or after `i`, skipping blanks and operators
// (which contain no quotes or braces); text.size() at the end.
constexpr std::size_t next_word(std::string_view text, std::size_t i) noexcept {
  while (i < text.size() && ends_word(text[i])) ++i;
  return i;
}

}  // namespace ductile::detail::cmdline_lexer
