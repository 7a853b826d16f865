#include "support.hpp"

using namespace ductile;
using test::helper;

TEST_CASE("arguments are quoted only where sh needs it") {
  CHECK(shell_quote("abc") == "abc");
  CHECK(shell_quote("a b") == "'a b'");
  CHECK(shell_quote("") == "''");
  CHECK(shell_quote("it's") == "'it'\\''s'");
  CHECK(shell_quote("$HOME") == "'$HOME'");
}

TEST_CASE("an expression prints as sh text") {
  CHECK(fmt::format("{}", cmd("echo", "hi") | cmd("sed", "s/i/o/").stdout_path("out.txt")) ==
        "echo hi | sed s/i/o/ >out.txt");
  CHECK(fmt::format("{}", cmd("make").then(cmd("make", "install"))) == "make && make install");
  CHECK(fmt::format("{}", cmd("a").unchecked().then(cmd("b"))) == "a; b");
  CHECK(fmt::format("{}", (cmd("a") | cmd("b")).stdout_path("x")) == "(a | b) >x");
  CHECK(fmt::format("{}", cmd("a").then(cmd("b")) | cmd("c")) == "(a && b) | c");
  CHECK(fmt::format("{}", cmd("a").stderr_to_stdout().stdout_null()) == "a >/dev/null 2>&1");
  CHECK(fmt::format("{}", cmd("a").env("X", "1 2").stdin_path("in")) == "X='1 2' a <in");
  CHECK(fmt::format("{}", cmd("a").dir("/tmp").stdout_capture()) == "a [stdout_capture] [dir /tmp]");
  CHECK(fmt::format("{}", cmd("a").stdout_append("log").stderr_append("err")) == "a 2>>err >>log");
}

TEST_CASE("pasting the printed text into sh gives the same argv") {
  test::leak_check check;
  const std::vector<std::string> nasty{"plain",  "two words", "",          "it's",       "$HOME",
                                       "`date`", "a|b;c&d",   "new\nline", "\"quoted\"", "back\\slash",
                                       "*",      "ünïcødé",   "~"};
  const expression e = helper("echo_args", nasty);
  const std::string direct = e.read();
  const std::string through_shell = sh(fmt::format("{}", e)).read();
  CHECK(direct == through_shell);
}

TEST_CASE("statuses and outputs format as words") {
  CHECK(fmt::format("{}", exit_status::exited(3)) == "exit code 3");
  CHECK(fmt::format("{}", exit_status::killed(9)) == "signal 9 (SIGKILL)");
  CHECK(fmt::format("{}", exit_status::killed(11, true)) == "signal 11 (SIGSEGV, core dumped)");
  output out;
  out.status = exit_status::exited(0);
  out.stdout_bytes = "abc";
  CHECK(fmt::format("{}", out) == "exit code 0, 3 bytes of stdout, 0 bytes of stderr");
}
