// Command lines a child reads back exactly: the quoting against Windows's
// own CommandLineToArgvW, thousands of random arguments, and the same
// through real children; batch files through cmd.exe, and the arguments
// cmd.exe cannot receive unchanged refused.
#include <random>

#include "os/windows/command_line.hpp"
#include "os/windows/win32.hpp"
#include "windows_support.hpp"

using namespace ductile;
using test::win_helper;
namespace fs = std::filesystem;

namespace {

std::vector<std::wstring> split_by_windows(const std::wstring& line) {
  int count = 0;
  wchar_t** parts = CommandLineToArgvW(line.c_str(), &count);
  std::vector<std::wstring> result(parts, parts + count);
  LocalFree(parts);
  return result;
}

// Spaces, tabs, quotes, runs of backslashes (before quotes and at the end),
// empty strings and non-ASCII, in random mixtures.
std::string random_argument(std::mt19937& random) {
  static const std::vector<std::string> pieces = {"a",  "b",  "Z",    "0",    " ",      "  ", "\t",
                                                  "\"", "\\", "\\\\", "\\\"", "\\\\\"", "ü",  "日本",
                                                  "é",  "'",  "&",    "|",    "^",      "-x", "="};
  std::string arg;
  const int length = static_cast<int>(random() % 7);
  for (int i = 0; i < length; ++i) arg += pieces[random() % pieces.size()];
  if (random() % 5 == 0) arg += std::string(random() % 4 + 1, '\\');
  return arg;
}

}  // namespace

TEST_CASE("the quoting reads back exactly through CommandLineToArgvW, for 5,000 random arguments") {
  std::mt19937 random(20261206);
  for (int round = 0; round < 500; ++round) {
    std::vector<std::wstring> args;
    std::wstring line;
    REQUIRE(detail::windows::append_program_name(line, L"C:\\Program Files\\x.exe"));
    for (int i = 0; i < 10; ++i) {
      std::wstring wide;
      REQUIRE(detail::windows::widen(random_argument(random), wide));
      detail::windows::append_argument(line, wide);
      args.push_back(wide);
    }
    const auto back = split_by_windows(line);
    REQUIRE(back.size() == args.size() + 1);
    CHECK(back[0] == L"C:\\Program Files\\x.exe");
    for (std::size_t i = 0; i < args.size(); ++i) {
      CAPTURE(detail::windows::narrow(line));
      CHECK(back[i + 1] == args[i]);
    }
  }
}

TEST_CASE("real children read back 400 random arguments exactly") {
  std::mt19937 random(7);
  for (int round = 0; round < 20; ++round) {
    std::vector<std::string> args{"argv"};
    for (int i = 0; i < 20; ++i) args.push_back(random_argument(random));
    const auto printed = test::split_nul(cmd(test::windows_helper().string(), std::vector<std::string>(args)).read());
    REQUIRE(printed.size() == args.size() - 1);
    for (std::size_t i = 1; i < args.size(); ++i) CHECK(printed[i - 1] == args[i]);
  }
  CHECK(test::split_nul(win_helper("argv", "", "", "").stdout_capture().run().stdout_bytes) ==
        std::vector<std::string>{"", "", ""});
}

TEST_CASE("a batch file runs through cmd.exe and receives its arguments unchanged") {
  test::temp_dir dir;
  const auto script = dir / "forward.bat";
  test::write_file(script, "@\"" + test::windows_helper().string() + "\" argv %*\r\n");
  const std::vector<std::string> args = {"plain",      "with space", "a&b",    "x|y", "<in>", "^caret",    "(paren)",
                                         "semi;colon", "com,ma",     "eq=ual", "",    "ü",    "trailing\\"};
  const auto printed = test::split_nul(cmd(script, std::vector<std::string>(args)).read());
  CHECK(printed == args);
}

TEST_CASE("what cmd.exe cannot receive unchanged is refused, naming the argument") {
  test::temp_dir dir;
  const auto script = dir / "forward.bat";
  test::write_file(script, "@\"" + test::windows_helper().string() + "\" argv %*\r\n");
  test::temp_dir marker_dir;
  const auto marker = marker_dir / "injected";
  for (const std::string& bad : {std::string("\"&echo injected>") + marker.string() + "&\"", std::string("%PATH%"),
                                 std::string("line\nbreak"), std::string("quote\"inside")}) {
    CAPTURE(bad);
    const auto error = test::expect_error<spawn_error>([&] { cmd(script, "fine", bad).run(); });
    const std::string message = error.what();
    CAPTURE(message);
    CHECK(message.find("batch file") != std::string::npos);
    CHECK(message.find("argument 2") != std::string::npos);
  }
  CHECK_FALSE(fs::exists(marker));
  CHECK(test::children().empty());
}
