// The Windows twin of behaviour/test_streams.cpp: where each stream goes,
// and every byte arriving, whatever the sizes.
#include "windows_support.hpp"

using namespace ductile;
using test::win_helper;

TEST_CASE("stderr_to_stdout and stdout_to_stderr move a stream where the other goes") {
  const auto both = win_helper("flood", "3").stdin_null().stderr_to_stdout().stdout_capture().run();
  CHECK(std::count(both.stdout_bytes.begin(), both.stdout_bytes.end(), 'e') == 3);
  CHECK(std::count(both.stdout_bytes.begin(), both.stdout_bytes.end(), 'o') == 3);
  const auto moved = win_helper("echo", "to stderr").stdout_to_stderr().stderr_capture().stdout_capture().run();
  CHECK(moved.stderr_bytes == "to stderr\n");
  CHECK(moved.stdout_bytes.empty());
}

TEST_CASE("combined_capture keeps both streams, in the order they were read") {
  const auto out = win_helper("flood", "100000").stdin_null().combined_capture().run();
  CHECK(out.combined_bytes.size() == 200000 + std::string("\nstdin 0\n").size());
  CHECK(std::count(out.combined_bytes.begin(), out.combined_bytes.end(), 'e') == 100000);
}

TEST_CASE("stdout_append adds to a file; stderr_tee captures and forwards") {
  test::temp_dir dir;
  const auto log = dir / "log.txt";
  win_helper("echo", "one").stdout_append(log).run();
  win_helper("echo", "two").stdout_append(log).run();
  CHECK(test::slurp(log) == "one\ntwo\n");
  const auto named = dir.path / std::filesystem::u8path("gr\xc3\xbcn \xe6\x97\xa5.txt");
  win_helper("echo", "named in UTF-8").stdout_path(named).run();
  CHECK(test::slurp(named) == "named in UTF-8\n");
  CHECK(win_helper("cat").stdin_path(named).read() == "named in UTF-8");
  const auto teed = win_helper("flood", "4").stdin_null().stdout_null().stderr_tee().run();
  CHECK(teed.stderr_bytes == "eeee");
}

TEST_CASE("stdin_bytes through a pipeline of cats, 8 MiB, all of it") {
  std::string input(8 << 20, '\0');
  for (std::size_t i = 0; i < input.size(); ++i) input[i] = static_cast<char>('a' + i % 26);
  const auto out =
      (win_helper("cat") | win_helper("cat") | win_helper("cat")).stdin_bytes(input).stdout_capture().run();
  CHECK(out.stdout_bytes == input);
}

TEST_CASE("line callbacks on both streams, a last line without a newline included") {
  std::vector<std::string> out_lines, err_lines;
  win_helper("lines", "3")
      .then(win_helper("flood", "2"))
      .stdin_null()
      .stdout_lines([&](std::string_view l) { out_lines.emplace_back(l); })
      .stderr_lines([&](std::string_view l) { err_lines.emplace_back(l); })
      .run();
  REQUIRE(out_lines.size() >= 3);
  CHECK(out_lines[0] == "line 1");
  CHECK(err_lines == std::vector<std::string>{"ee"});
}
