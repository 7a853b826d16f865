// The Windows twin of behaviour/test_redirect.cpp: which redirect wins,
// merges and swaps, appends, handles passed in, stdin bytes, and all three
// streams at once.
#include <fcntl.h>
#include <io.h>

#include "windows_support.hpp"

using namespace ductile;
using test::win_helper;
namespace fs = std::filesystem;

namespace {
// "out" on stdout and "err" on stderr.
expression both_streams() { return win_helper("print", "out\\n").then(win_helper("err", "err\\n")); }
}  // namespace

TEST_CASE("inner stdout redirect wins over outer, and the outer file is still created") {
  test::temp_dir tmp;
  win_helper("echo", "hi").stdout_path(tmp / "inner").stdout_path(tmp / "outer").run();
  CHECK(test::slurp(tmp / "inner") == "hi\n");
  CHECK(fs::exists(tmp / "outer"));
  CHECK(test::slurp(tmp / "outer").empty());
}

TEST_CASE("inner redirect wins for every pair of stdout targets") {
  test::temp_dir tmp;
  const auto file = (tmp / "f").string();
  CHECK(win_helper("echo", "x").stdout_capture().stdout_path(file).run().stdout_bytes == "x\n");
  CHECK(test::slurp(file).empty());
  CHECK(win_helper("echo", "x").stdout_null().stdout_capture().run().stdout_bytes.empty());
  win_helper("echo", "y").stdout_path(file).stdout_capture().run();
  CHECK(test::slurp(file) == "y\n");
  win_helper("echo", "z").stdout_append(file).stdout_null().run();
  CHECK(test::slurp(file) == "y\nz\n");
  CHECK(win_helper("echo", "w").stdout_to_stderr().stderr_capture().stdout_capture().run().stderr_bytes == "w\n");
}

TEST_CASE("inner redirect wins for stdin") {
  test::temp_dir tmp;
  test::write_file(tmp / "in", "from file");
  CHECK(win_helper("cat").stdin_bytes("inner").stdin_path(tmp / "in").read() == "inner");
  CHECK(win_helper("cat").stdin_path(tmp / "in").stdin_bytes("outer").read() == "from file");
  CHECK(win_helper("cat").stdin_null().stdin_bytes("outer").read().empty());
}

TEST_CASE("inner redirect wins for stderr") {
  test::temp_dir tmp;
  const auto out = win_helper("err", "e\\n").stderr_capture().stderr_path(tmp / "outer").run();
  CHECK(out.stderr_bytes == "e\n");
  CHECK(test::slurp(tmp / "outer").empty());
  CHECK(win_helper("err", "e\\n").stderr_null().stderr_capture().run().stderr_bytes.empty());
}

TEST_CASE("stderr_to_stdout and stdout_to_stderr resolve against the other stream at that point") {
  const output merged = both_streams().stderr_to_stdout().stdout_capture().stderr_capture().run();
  CHECK(merged.stdout_bytes == "out\nerr\n");
  CHECK(merged.stderr_bytes.empty());
  // Here stderr is redirected after (inside) the merge, so only stderr moves.
  const output split = both_streams().stderr_capture().stderr_to_stdout().stdout_capture().run();
  CHECK(split.stdout_bytes == "out\n");
  CHECK(split.stderr_bytes == "err\n");
}

TEST_CASE("stdout_stderr_swap exchanges the two streams") {
  const output out = both_streams().stdout_stderr_swap().stdout_capture().stderr_capture().run();
  CHECK(out.stdout_bytes == "err\n");
  CHECK(out.stderr_bytes == "out\n");
}

TEST_CASE("stdout_append appends and paths are relative to the parent") {
  test::temp_dir tmp;
  const auto previous = fs::current_path();
  fs::current_path(tmp.path);
  win_helper("echo", "1").stdout_append("log").dir("C:\\").run();
  win_helper("echo", "2").stdout_append("log").run();
  win_helper("err", "3\\n").stderr_append("log").run();
  fs::current_path(previous);
  CHECK(test::slurp(tmp / "log") == "1\n2\n3\n");
}

TEST_CASE("handles passed in are duplicated when the modifier is called") {
  test::temp_dir tmp;
  HANDLE file = CreateFileW((tmp / "out").c_str(), GENERIC_WRITE, 0, nullptr, CREATE_ALWAYS, 0, nullptr);
  REQUIRE(file != INVALID_HANDLE_VALUE);
  expression e = win_helper("echo", "via handle").stdout_file(file);
  CloseHandle(file);  // the caller keeps its own and may close it
  e.run();
  e = expression(win_helper("exit", "0"));  // drop the tree's copy
  CHECK(test::slurp(tmp / "out") == "via handle\n");
  test::write_file(tmp / "in", "input");
  HANDLE input = CreateFileW((tmp / "in").c_str(), GENERIC_READ, FILE_SHARE_READ, nullptr, OPEN_EXISTING, 0, nullptr);
  REQUIRE(input != INVALID_HANDLE_VALUE);
  const expression reading = win_helper("cat").stdin_file(input);
  CloseHandle(input);
  CHECK(reading.read() == "input");
  // The tree's copy is closed with the tree: the file can be deleted.
  e = expression(win_helper("exit", "0"));
  CHECK(fs::remove(tmp / "out"));
}

TEST_CASE("stdin_bytes is fed again on every run") {
  const expression e = win_helper("cat").stdin_bytes("again");
  CHECK(e.read() == "again");
  CHECK(e.read() == "again");
  CHECK(win_helper("cat").stdin_bytes(std::vector<unsigned char>{'o', 'k'}).read() == "ok");
}

TEST_CASE("a child that does not read its stdin is no error") {
  CHECK(win_helper("exit", "0").stdin_bytes(std::string(4 << 20, 'x')).run().status.success());
}

TEST_CASE("8 MiB through stdin, stdout and stderr at once does not deadlock") {
  const output out = win_helper("flood", std::to_string(8 << 20))
                         .stdin_bytes(std::string(8 << 20, 'i'))
                         .stdout_capture()
                         .stderr_capture()
                         .run();
  CHECK(out.stdout_bytes.size() == (8u << 20) + std::string("\nstdin 8388608\n").size());
  CHECK(out.stdout_bytes.substr(8u << 20) == "\nstdin 8388608\n");
  CHECK(out.stderr_bytes == std::string(8 << 20, 'e'));
}

TEST_CASE("tee captures and also forwards to where the stream would have gone") {
  test::temp_dir tmp;
  const output out = win_helper("echo", "shown").stdout_tee().stdout_path(tmp / "file").run();
  CHECK(out.stdout_bytes == "shown\n");
  CHECK(test::slurp(tmp / "file") == "shown\n");
  const output piped =
      (win_helper("bytes", std::to_string(1 << 20)).stdout_tee() | win_helper("count")).stdout_capture().run();
  CHECK(piped.stdout_bytes.size() == (1u << 20) + std::string("1048576\n").size());
}
