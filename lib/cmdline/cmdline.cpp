// cmdline(): shell-like text to an expression tree, with no shell involved.
// Words are read by the constexpr lexer the compile-time check also uses
// (<ductile/detail/cmdline_lexer.hpp>); operators and the grammar are a
// recursive descent here. Every error is a parse_error that shows the text, a
// caret, and what to write instead.

#include <fmt/format.h>

#include <algorithm>
#include <ductile/cmdline.hpp>
#include <ductile/detail/cmdline_lexer.hpp>
#include <ductile/error.hpp>
#include <optional>

#include "common.hpp"

namespace ductile {
namespace detail {

// One piece of a word: literal text, or a placeholder to be formatted.
struct word_piece {
  std::string text;
  bool quoted = false;
  bool is_placeholder = false;
  std::size_t index = 0;
  std::string spec;
};

struct shell_word {
  std::vector<word_piece> pieces;
  std::size_t position = 0;
  // The word is one unquoted placeholder: it may be a range, a path or a program.
  const word_piece* whole_placeholder() const {
    return pieces.size() == 1 && pieces[0].is_placeholder ? &pieces[0] : nullptr;
  }
};

enum class token_kind { word, pipe, and_then, sequence, open, close, redirect, end };

enum class redirect_op { read, write, append, error_write, error_append, error_to_output, output_to_error };

struct token {
  token_kind kind = token_kind::end;
  std::size_t position = 0;
  shell_word word;
  redirect_op op = redirect_op::read;
};

class cmdline_parser {
 public:
  cmdline_parser(std::string_view text, const std::vector<cmdline_argument>& arguments)
      : text_(text), arguments_(arguments) {}

  expression parse() {
    advance();
    if (current_.kind == token_kind::end) fail(0, "the command line is empty", "write at least one command");
    expression result = parse_sequence();
    if (current_.kind == token_kind::close)
      fail(current_.position, "unbalanced ')'", "remove it or add the matching '('");
    if (current_.kind != token_kind::end) fail(current_.position, "unexpected text", "");
    return result;
  }

 private:
  [[noreturn]] void fail(std::size_t position, const std::string& what, const std::string& advice) const {
    std::string message =
        fmt::format("cmdline: {} at position {}\n  {}\n  {}^", what, position, text_, std::string(position, ' '));
    if (!advice.empty()) message += "\n  " + advice;
    throw parse_error(message, std::string(text_), position);
  }

  // --- lexing

  bool at(std::size_t i, char c) const { return i < text_.size() && text_[i] == c; }

  void reject(std::size_t i) const {
    const char c = text_[i];
    switch (c) {
      case '$':
        fail(i, "'$' expansions are not supported",
             "pass the value as a placeholder argument: cmdline(\"echo {}\", value)");
      case '`':
        fail(i, "backticks (command substitution) are not supported",
             "run the inner command first with .read() and pass its output as a placeholder");
      case '*':
      case '?':
      case '[':
        fail(i, "glob characters are not expanded",
             "quote them to mean themselves, or pass the file list as a range placeholder");
      default: break;
    }
  }

  word_piece& literal(shell_word& word, bool quoted) {
    if (word.pieces.empty() || word.pieces.back().is_placeholder || word.pieces.back().quoted != quoted)
      word.pieces.push_back(word_piece{{}, quoted, false, 0, {}});
    return word.pieces.back();
  }

  // Receives the pieces of one word from the lexer.
  struct word_builder {
    cmdline_parser& parser;
    shell_word& word;

    void literal(char c, bool quoted, std::size_t) { parser.literal(word, quoted).text += c; }
    void quotes(std::size_t) { parser.literal(word, true); }  // an empty '' is still a word
    void special(char, std::size_t position) { parser.reject(position); }
    void placeholder(const cmdline_lexer::placeholder_text& p) { parser.placeholder(p, word); }
    [[noreturn]] void error(cmdline_lexer::lex_error error, std::size_t position) {
      using cmdline_lexer::lex_error;
      switch (error) {
        case lex_error::unbalanced_single_quote:
          parser.fail(position, "unbalanced single quote", "close the quote with '");
        case lex_error::unbalanced_double_quote:
          parser.fail(position, "unbalanced double quote", "close the quote with \"");
        case lex_error::trailing_backslash:
          parser.fail(position, "a backslash ends the line", "remove it or escape something after it");
        case lex_error::unterminated_placeholder:
          parser.fail(position, "unterminated placeholder", "close it with '}', or write '{{' for a literal brace");
        case lex_error::unmatched_close_brace: parser.fail(position, "unmatched '}'", "write '}}' for a literal brace");
        case lex_error::spec_too_wide:
          parser.fail(position,
                      fmt::format("a width or precision above {} in a placeholder", cmdline_lexer::max_spec_number),
                      "");
        case lex_error::mixed_numbering: break;
      }
      parser.fail(position, "placeholders mix {} and {N}", "number all of them, or none");
    }
  };

  void placeholder(const cmdline_lexer::placeholder_text& p, shell_word& word) {
    const std::size_t index = numbering_.number(p);
    if (index == cmdline_lexer::npos) fail(p.open, "placeholders mix {} and {N}", "number all of them, or none");
    if (index >= arguments_.size())
      fail(p.open, fmt::format("placeholder {} has no argument ({} given)", index, arguments_.size()),
           "pass one argument per placeholder");
    used_.resize(arguments_.size());
    used_[index] = true;
    word.pieces.push_back(word_piece{{}, p.quoted, true, index, std::string(p.spec)});
  }

  // Reads a word starting at `i`; returns the index just past it.
  std::size_t read_word(std::size_t i, shell_word& word) {
    word.position = i;
    if (at(i, '~')) fail(i, "'~' is not expanded", "pass the home directory as a placeholder");
    if (at(i, '#')) fail(i, "comments are not supported", "remove the comment, or quote the '#'");
    word_builder builder{*this, word};
    return cmdline_lexer::scan_word(text_, i, builder);
  }

  void advance() {
    std::size_t i = next_;
    while (i < text_.size() && cmdline_lexer::is_blank(text_[i])) ++i;
    current_ = token{};
    current_.position = i;
    if (i >= text_.size()) {
      current_.kind = token_kind::end;
      next_ = i;
      check_all_used();
      return;
    }
    const char c = text_[i];
    auto redirect = [&](redirect_op op, std::size_t length) {
      current_.kind = token_kind::redirect;
      current_.op = op;
      next_ = i + length;
    };
    if (c == '|') {
      if (at(i + 1, '|'))
        fail(i, "'||' is not supported",
             "ductile has no 'or': run the left side .unchecked() and test its status in C++");
      current_.kind = token_kind::pipe;
      next_ = i + 1;
    } else if (c == '&') {
      if (!at(i + 1, '&')) fail(i, "'&' (a background job) is not supported", "use .start() on the expression");
      current_.kind = token_kind::and_then;
      next_ = i + 2;
    } else if (c == ';' || c == '\n') {
      if (c == ';' && at(i + 1, ';')) fail(i, "';;' is not supported", "separate commands with one ';'");
      current_.kind = token_kind::sequence;
      next_ = i + 1;
    } else if (c == '(') {
      current_.kind = token_kind::open;
      next_ = i + 1;
    } else if (c == ')') {
      current_.kind = token_kind::close;
      next_ = i + 1;
    } else if (c == '<') {
      if (at(i + 1, '<')) fail(i, "here-documents ('<<') are not supported", "feed the text with .stdin_bytes()");
      if (at(i + 1, '&') || at(i + 1, '(')) fail(i, "this redirection is not supported", "write '< file'");
      redirect(redirect_op::read, 1);
    } else if (c == '>' || ((c == '1' || c == '2') && at(i + 1, '>'))) {
      const bool error_stream = c == '2';
      const std::size_t arrow = c == '>' ? i : i + 1;
      if (text_.compare(arrow, 3, ">&2") == 0 && !error_stream) {
        redirect(redirect_op::output_to_error, arrow + 3 - i);
      } else if (text_.compare(arrow, 3, ">&1") == 0 && error_stream) {
        redirect(redirect_op::error_to_output, arrow + 3 - i);
      } else if (at(arrow + 1, '&') || at(arrow + 1, '|') || at(arrow + 1, '(')) {
        fail(i, "this redirection is not supported", "write '> file', '>> file', '2>&1' or '>&2'");
      } else if (at(arrow + 1, '>')) {
        redirect(error_stream ? redirect_op::error_append : redirect_op::append, arrow + 2 - i);
      } else {
        redirect(error_stream ? redirect_op::error_write : redirect_op::write, arrow + 1 - i);
      }
    } else {
      current_.kind = token_kind::word;
      next_ = read_word(i, current_.word);
    }
  }

  void check_all_used() const {
    for (std::size_t k = 0; k < arguments_.size(); ++k)
      if (k >= used_.size() || !used_[k])
        fail(text_.size(), fmt::format("argument {} has no placeholder ({} given)", k, arguments_.size()),
             "add a placeholder for it or remove the argument");
  }

  // --- words to strings

  std::string render(const shell_word& word) const {
    std::string out;
    for (const auto& piece : word.pieces) {
      if (!piece.is_placeholder) {
        out += piece.text;
        continue;
      }
      const auto& argument = arguments_[piece.index];
      if (argument.is_range && word.whole_placeholder() == nullptr)
        fail(word.position, "a range placeholder must be a whole word", "write it apart from other text");
      try {
        out += argument.format(piece.spec);
      } catch (const fmt::format_error& e) {
        fail(word.position, fmt::format("bad format spec '{}': {}", piece.spec, e.what()), "");
      }
    }
    return out;
  }

  // --- parsing

  expression parse_sequence() {
    expression left = parse_and();
    while (current_.kind == token_kind::sequence) {
      advance();
      if (current_.kind == token_kind::end || current_.kind == token_kind::close) break;  // a trailing ';'
      left = left.unchecked().then(parse_and());
    }
    return left;
  }

  expression parse_and() {
    expression left = parse_pipeline();
    while (current_.kind == token_kind::and_then) {
      advance();
      left = left.then(parse_pipeline());
    }
    return left;
  }

  expression parse_pipeline() {
    expression left = parse_command();
    while (current_.kind == token_kind::pipe) {
      advance();
      left = left | parse_command();
    }
    return left;
  }

  struct pending_redirect {
    redirect_op op;
    std::string path;
  };

  void read_redirect(std::vector<pending_redirect>& redirects) {
    const redirect_op op = current_.op;
    const std::size_t position = current_.position;
    advance();
    if (op == redirect_op::error_to_output || op == redirect_op::output_to_error) {
      redirects.push_back({op, {}});
      return;
    }
    if (current_.kind != token_kind::word) fail(position, "a redirection without a target", "name a file after it");
    const auto* whole = current_.word.whole_placeholder();
    if (whole != nullptr && arguments_[whole->index].is_range)
      fail(current_.word.position, "a redirection target must be one path, not a range", "");
    redirects.push_back({op, render(current_.word)});
    advance();
  }

  static expression apply(expression e, const std::vector<pending_redirect>& redirects) {
    // In a shell the last redirection of a stream wins; here the innermost
    // modifier wins, so the last one is applied first (innermost).
    for (auto r = redirects.rbegin(); r != redirects.rend(); ++r) {
      switch (r->op) {
        case redirect_op::read: e = e.stdin_path(r->path); break;
        case redirect_op::write: e = e.stdout_path(r->path); break;
        case redirect_op::append: e = e.stdout_append(r->path); break;
        case redirect_op::error_write: e = e.stderr_path(r->path); break;
        case redirect_op::error_append: e = e.stderr_append(r->path); break;
        case redirect_op::error_to_output: e = e.stderr_to_stdout(); break;
        case redirect_op::output_to_error: e = e.stdout_to_stderr(); break;
      }
    }
    return e;
  }

  static bool assignment_name(const shell_word& word, std::size_t& length) {
    if (word.pieces.empty() || word.pieces[0].is_placeholder || word.pieces[0].quoted) return false;
    const std::string& text = word.pieces[0].text;
    const auto equals = text.find('=');
    if (equals == std::string::npos || equals == 0) return false;
    for (std::size_t k = 0; k < equals; ++k) {
      const char c = text[k];
      const bool ok = c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (k > 0 && c >= '0' && c <= '9');
      if (!ok) return false;
    }
    length = equals;
    return true;
  }

  expression parse_command() {
    const std::size_t start = current_.position;
    std::vector<pending_redirect> redirects;
    if (current_.kind == token_kind::open) {
      advance();
      if (current_.kind == token_kind::close) fail(current_.position, "empty parentheses", "put a command inside");
      expression inner = parse_sequence();
      if (current_.kind != token_kind::close) fail(start, "unbalanced '('", "close it with ')'");
      advance();
      while (current_.kind == token_kind::redirect) read_redirect(redirects);
      if (current_.kind == token_kind::word || current_.kind == token_kind::open)
        fail(current_.position, "text after ')'", "join it with '|', '&&' or ';'");
      return apply(inner, redirects);
    }
    std::vector<std::pair<std::string, std::string>> assignments;
    argument_list argv;
    bool program_is_path = false;
    bool have_program = false;
    while (current_.kind == token_kind::word || current_.kind == token_kind::redirect) {
      if (current_.kind == token_kind::redirect) {
        read_redirect(redirects);
        continue;
      }
      const shell_word& word = current_.word;
      std::size_t name_length = 0;
      if (!have_program && assignment_name(word, name_length)) {
        shell_word value = word;
        value.pieces[0].text.erase(0, name_length + 1);
        assignments.emplace_back(word.pieces[0].text.substr(0, name_length), render(value));
      } else if (const auto* whole = word.whole_placeholder(); whole != nullptr && arguments_[whole->index].is_range) {
        if (!have_program) fail(word.position, "the program cannot be a range", "pass one program");
        const auto& elements = arguments_[whole->index].elements;
        argv.insert(argv.end(), elements.begin(), elements.end());
      } else {
        if (!have_program) program_is_path = whole != nullptr && arguments_[whole->index].is_path;
        argv.push_back(render(word));
        have_program = true;
      }
      advance();
    }
    if (!have_program) {
      const bool at_operator = current_.kind != token_kind::end && current_.kind != token_kind::close;
      fail(at_operator ? current_.position : start, "a command is missing here",
           "write a command before and after every '|', '&&' and ';'");
    }
    if (current_.kind == token_kind::open)
      fail(current_.position, "unexpected '('", "join commands with '|', '&&' or ';'");
    expression e = make_command(std::move(argv), program_is_path);
    for (auto a = assignments.rbegin(); a != assignments.rend(); ++a) e = e.env(a->first, a->second);
    return apply(e, redirects);
  }

  std::string_view text_;
  const std::vector<cmdline_argument>& arguments_;
  token current_;
  std::size_t next_ = 0;
  cmdline_lexer::placeholder_numbering numbering_;
  std::vector<bool> used_;
};

DUCTILE_INLINE expression parse_cmdline(std::string_view text, const std::vector<cmdline_argument>& arguments) {
  return cmdline_parser(text, arguments).parse();
}

}  // namespace detail
}  // namespace ductile
