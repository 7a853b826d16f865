#include <fcntl.h>

#include "support.hpp"

using namespace ductile;
using test::helper;

TEST_CASE("inner stdout redirect wins over outer, and the outer file is still created") {
  test::leak_check check;
  test::temp_dir tmp;
  cmd("echo", "hi").stdout_path(tmp / "inner").stdout_path(tmp / "outer").run();
  CHECK(test::slurp(tmp / "inner") == "hi\n");
  CHECK(std::filesystem::exists(tmp / "outer"));
  CHECK(test::slurp(tmp / "outer").empty());
}

TEST_CASE("inner redirect wins for every pair of stdout targets") {
  test::leak_check check;
  test::temp_dir tmp;
  const auto file = (tmp / "f").string();
  CHECK(cmd("echo", "x").stdout_capture().stdout_path(file).run().stdout_bytes == "x\n");
  CHECK(test::slurp(file).empty());
  CHECK(cmd("echo", "x").stdout_null().stdout_capture().run().stdout_bytes.empty());
  cmd("echo", "y").stdout_path(file).stdout_capture().run();
  CHECK(test::slurp(file) == "y\n");
  cmd("echo", "z").stdout_append(file).stdout_null().run();
  CHECK(test::slurp(file) == "y\nz\n");
  CHECK(cmd("echo", "w").stdout_to_stderr().stderr_capture().stdout_capture().run().stderr_bytes == "w\n");
}

TEST_CASE("inner redirect wins for stdin") {
  test::leak_check check;
  test::temp_dir tmp;
  test::write_file(tmp / "in", "from file");
  CHECK(cmd("cat").stdin_bytes("inner").stdin_path(tmp / "in").read() == "inner");
  CHECK(cmd("cat").stdin_path(tmp / "in").stdin_bytes("outer").read() == "from file");
  CHECK(cmd("cat").stdin_null().stdin_bytes("outer").read().empty());
}

TEST_CASE("inner redirect wins for stderr") {
  test::leak_check check;
  test::temp_dir tmp;
  const auto out = sh("echo e >&2").stderr_capture().stderr_path(tmp / "outer").run();
  CHECK(out.stderr_bytes == "e\n");
  CHECK(test::slurp(tmp / "outer").empty());
  CHECK(sh("echo e >&2").stderr_null().stderr_capture().run().stderr_bytes.empty());
}

TEST_CASE("stderr_to_stdout and stdout_to_stderr resolve against the other stream at that point") {
  test::leak_check check;
  const output merged = sh("echo out; echo err >&2").stderr_to_stdout().stdout_capture().stderr_capture().run();
  CHECK(merged.stdout_bytes == "out\nerr\n");
  CHECK(merged.stderr_bytes.empty());
  // Here stderr is redirected after (inside) the merge, so only stderr moves.
  const output split = sh("echo out; echo err >&2").stderr_capture().stderr_to_stdout().stdout_capture().run();
  CHECK(split.stdout_bytes == "out\n");
  CHECK(split.stderr_bytes == "err\n");
}

TEST_CASE("stdout_stderr_swap exchanges the two streams") {
  test::leak_check check;
  const output out = sh("echo out; echo err >&2").stdout_stderr_swap().stdout_capture().stderr_capture().run();
  CHECK(out.stdout_bytes == "err\n");
  CHECK(out.stderr_bytes == "out\n");
}

TEST_CASE("stdout_append appends and paths are relative to the parent") {
  test::leak_check check;
  test::temp_dir tmp;
  const auto previous = std::filesystem::current_path();
  std::filesystem::current_path(tmp.path);
  cmd("echo", "1").stdout_append("log").dir("/").run();
  cmd("echo", "2").stdout_append("log").run();
  sh("echo 3 >&2").stderr_append("log").run();
  std::filesystem::current_path(previous);
  CHECK(test::slurp(tmp / "log") == "1\n2\n3\n");
}

TEST_CASE("descriptors passed in are duplicated when the modifier is called") {
  test::leak_check check;
  test::temp_dir tmp;
  int fd = ::open((tmp / "out").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  REQUIRE(fd >= 0);
  expression e = cmd("echo", "via fd").stdout_file(fd);
  ::close(fd);  // the caller keeps its own and may close it
  e.run();
  e = expression(cmd("true"));  // drop the tree's copy
  CHECK(test::slurp(tmp / "out") == "via fd\n");

  test::write_file(tmp / "in", "input");
  fd = ::open((tmp / "in").c_str(), O_RDONLY | O_CLOEXEC);
  const expression reading = cmd("cat").stdin_file(fd);
  ::close(fd);
  CHECK(reading.read() == "input");
}

TEST_CASE("stdin_bytes is fed again on every run") {
  test::leak_check check;
  const expression e = cmd("cat").stdin_bytes("again");
  CHECK(e.read() == "again");
  CHECK(e.read() == "again");
  CHECK(cmd("cat").stdin_bytes(std::vector<unsigned char>{'o', 'k'}).read() == "ok");
}

TEST_CASE("a child that does not read its stdin is no error") {
  test::leak_check check;
  CHECK(cmd("true").stdin_bytes(std::string(4 << 20, 'x')).run().status.success());
}

TEST_CASE("8 MiB through stdin, stdout and stderr at once does not deadlock") {
  test::leak_check check;
  std::string input(8 << 20, '\0');
  for (std::size_t i = 0; i < input.size(); ++i) input[i] = static_cast<char>(i * 7 + i / 4096);
  const output out = helper("mirror").stdin_bytes(input).stdout_capture().stderr_capture().run();
  CHECK(out.stdout_bytes.size() == input.size());
  CHECK(out.stdout_bytes == input);
  CHECK(out.stderr_bytes == input);
}

TEST_CASE("tee captures and also forwards to where the stream would have gone") {
  test::leak_check check;
  test::temp_dir tmp;
  const output out = sh("echo shown").stdout_tee().stdout_path(tmp / "file").run();
  CHECK(out.stdout_bytes == "shown\n");
  CHECK(test::slurp(tmp / "file") == "shown\n");
  const output piped = (helper("write_bytes", 1 << 20).stdout_tee() | cmd("wc", "-c")).stdout_capture().run();
  CHECK(piped.stdout_bytes.size() == (1u << 20) + std::string("1048576\n").size());
}
