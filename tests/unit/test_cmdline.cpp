// The command-line parser on its own: what it refuses, and where.
#include "portable_support.hpp"

using namespace ductile;

namespace {
std::size_t error_position(std::string_view text) {
  try {
    cmdline(runtime_cmdline{text});
  } catch (const parse_error& e) {
    return e.position();
  }
  FAIL("expected parse_error for: " << text);
  return 0;
}
}  // namespace

TEST_CASE("what would mean something else in a shell is a parse_error with a caret") {
  const std::pair<const char*, std::size_t> cases[] = {
      {"echo $HOME", 5}, {"echo `id`", 5}, {"a || b", 2},     {"sleep 1 &", 8},   {"ls *.cpp", 3},
      {"ls ~/x", 3},     {"cat <<EOF", 4}, {"echo 'open", 5}, {"echo \"open", 5}, {"(echo a", 0},
      {"echo a)", 6},    {"| b", 0},       {"a |", 3},        {"a && && b", 5},   {"echo >", 5},
      {"echo {}", 5},    {"a ;; b", 2},    {"echo }", 5},     {"echo \"$x\"", 6}, {"ls file?", 7},
  };
  for (const auto& item : cases) {
    const char* text = item.first;
    CAPTURE(text);
    CHECK(error_position(text) == item.second);
  }
  try {
    cmdline("echo $HOME");
    FAIL("expected parse_error");
  } catch (const parse_error& e) {
    const std::string message = e.what();
    CHECK(message.find("echo $HOME\n       ^") != std::string::npos);
    CHECK(message.find("placeholder") != std::string::npos);
  }
}

TEST_CASE("wrong placeholder counts and indices are parse errors") {
  CHECK_THROWS_AS(cmdline(runtime_cmdline{"echo {} {}"}, 1), parse_error);
  CHECK_THROWS_AS(cmdline(runtime_cmdline{"echo"}, 1), parse_error);
  CHECK_THROWS_AS(cmdline(runtime_cmdline{"echo {3}"}, 1), parse_error);
  CHECK_THROWS_AS(cmdline(runtime_cmdline{"echo {} {0}"}, 1, 2), parse_error);
  CHECK_THROWS_AS(cmdline(runtime_cmdline{"echo {:q}"}, 1), parse_error);
  // Found by the fuzzer: a huge width would pad the argument to gigabytes.
  CHECK_THROWS_AS(cmdline(runtime_cmdline{"echo {:>111111175}"}, 1), parse_error);
  CHECK(cmdline("echo {:>4096}", 1).tree() != nullptr);
}

TEST_CASE("the placeholder check is constexpr, so C++20 rejects bad literals at compile time") {
  static_assert(detail::check_placeholders("a {} {}", 2) == static_cast<std::size_t>(-1));
  static_assert(detail::check_placeholders("a {} {}", 1) == 5);
  static_assert(detail::check_placeholders("a '{}'", 0) == static_cast<std::size_t>(-1));
  static_assert(detail::check_placeholders("a {{}}", 0) == static_cast<std::size_t>(-1));
  static_assert(detail::check_placeholders("a }", 0) == 2);
}

namespace {
// One grammar: every row goes through the compile-time check and the runtime
// parser, which must agree on whether the placeholders are right and where
// the first problem is.
struct grammar_row {
  const char* text;
  std::size_t arguments;
  std::size_t problem;  // npos: the placeholders are right
};
constexpr std::size_t fine = static_cast<std::size_t>(-1);
constexpr grammar_row grammar_table[] = {
    {"echo {}", 1, fine},
    {"echo \"it's {}\"", 1, fine},  // an apostrophe inside double quotes opens no single quote
    {"echo \"\\{}\"", 1, fine},     // in double quotes a backslash before '{' is literal
    {"echo '{}'", 0, fine},
    {"echo '{}' {}", 1, fine},
    {"echo \\{ {}", 1, fine},  // an escaped brace is text
    {"echo \\{{ {}", 1, 7},    // ... and the next one opens a placeholder
    {"echo {{}} {0} {0}", 1, fine},
    {"echo {1} {0}", 2, fine},
    {"echo {:>8} {}", 2, fine},
    {"a {} | b {} && c {}", 3, fine},
    {"cat < {} > {} 2>&1", 2, fine},
    {"X={} env", 1, fine},
    {"echo {:>4096}", 1, fine},
    {"echo {} {}", 1, 8},
    {"echo {}", 0, 5},
    {"echo", 1, 4},
    {"echo {} {0}", 1, 8},
    {"echo {0} {}", 1, 9},
    {"echo {", 1, 5},
    {"echo {0x}", 1, 5},
    {"echo }", 0, 5},
    {"echo \"}\"", 0, 6},
    {"echo \"{}", 1, 5},
    {"echo '{}", 0, 5},
    {"echo {} \\", 1, 8},
    {"echo {:>4097}", 1, 5},
    {"echo \"it's\" '{}' {}", 0, 17},
};
}  // namespace

TEST_CASE("the compile-time check and the parser read placeholders with one grammar") {
  for (const auto& row : grammar_table) {
    const std::string text = row.text;
    CAPTURE(text);
    CHECK(detail::check_placeholders(row.text, row.arguments) == row.problem);
    std::vector<std::string> arguments(row.arguments, "x");
    std::vector<detail::cmdline_argument> erased;
    for (const auto& a : arguments) erased.push_back(detail::make_cmdline_argument(a));
    if (row.problem == fine) {
      CHECK_NOTHROW((void)detail::parse_cmdline(row.text, erased));
    } else {
      try {
        (void)detail::parse_cmdline(row.text, erased);
        FAIL("the parser accepted it");
      } catch (const parse_error& e) {
        CHECK(e.position() == row.problem);
      }
    }
  }
}
