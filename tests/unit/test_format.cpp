#if __has_include("model/status_message.hpp")
#include "model/status_message.hpp"
#endif  // else the single header has it inline
#include "portable_support.hpp"

using namespace ductile;

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

TEST_CASE("statuses and outputs format as words") {
  CHECK(fmt::format("{}", exit_status::exited(3)) == "exit code 3");
  CHECK(fmt::format("{}", exit_status::killed(9)) == "signal 9 (SIGKILL)");
  CHECK(fmt::format("{}", exit_status::killed(11, true)) == "signal 11 (SIGSEGV, core dumped)");
  output out;
  out.status = exit_status::exited(0);
  out.stdout_bytes = "abc";
  CHECK(fmt::format("{}", out) == "exit code 0, 3 bytes of stdout, 0 bytes of stderr");
}

TEST_CASE("stream and status modifiers print in brackets") {
  const auto print = [](const expression& e) { return fmt::format("{}", e); };
  CHECK(print(cmd("make").stdout_lines([](std::string_view) {})) == "make [stdout_lines]");
  CHECK(print(cmd("make").stderr_lines([](std::string_view) {})) == "make [stderr_lines]");
  CHECK(print(cmd("grep", "x").ok_codes({0, 1})) == "grep x [ok_codes 0,1]");
  CHECK(print(cmd("diff", "a", "b").ok_codes({1})) == "diff a b [ok_codes 1]");
  CHECK(print(cmd("cc").combined_capture()) == "cc [combined_capture]");
  CHECK(print(cmd("bc").stdin_pipe()) == "bc [stdin_pipe]");
#ifdef _WIN32
  // A Windows child inherits its three standard handles and nothing else.
  CHECK_THROWS_WITH_AS(cmd("Xvfb").pass_fd(3, 1), "pass_fd(3, 1): not supported on this system", std::invalid_argument);
#else
  CHECK(print(cmd("Xvfb", "-displayfd", 3).pass_fd(3, 1)) == "Xvfb -displayfd 3 [pass_fd 3]");
#endif
  CHECK(print(cmd("ls").pty()) == "ls [pty]");
  CHECK(print(cmd("ls").pty(pty_size{30, 100})) == "ls [pty 30x100]");
  CHECK(print(cmd("server").kill_on_parent_exit()) == "server [kill_on_parent_exit]");
}

TEST_CASE("the stderr tail shows the last lines, indented, and says when it was cut") {
  CHECK(detail::stderr_tail("") == "");
  CHECK(detail::stderr_tail("\n\n") == "");
  CHECK(detail::stderr_tail("one\n") == "\nstderr:\n  one");
  CHECK(detail::stderr_tail("one\r\ntwo") == "\nstderr:\n  one\n  two");
  std::string twelve;
  for (int i = 1; i <= 12; ++i) twelve += "l" + std::to_string(i) + "\n";
  CHECK(detail::stderr_tail(twelve) ==
        "\nstderr (truncated):\n  l3\n  l4\n  l5\n  l6\n  l7\n  l8\n  l9\n  l10\n  l11\n  l12");
  std::string ten;
  for (int i = 1; i <= 10; ++i) ten += "l" + std::to_string(i) + "\n";
  CHECK(detail::stderr_tail(ten).rfind("\nstderr:\n  l1\n", 0) == 0);  // exactly ten lines: all of them
  // Bytes: 3 lines of 1000 bytes keep the last two (2 KiB at most).
  const std::string kilo(1000, 'k');
  CHECK(detail::stderr_tail(kilo + "\n" + kilo + "\n" + kilo + "\n") ==
        "\nstderr (truncated):\n  " + kilo + "\n  " + kilo);
  // One line longer than 2 KiB keeps its end.
  const std::string huge = std::string(1000, 'a') + std::string(2048, 'b');
  CHECK(detail::stderr_tail(huge) == "\nstderr (truncated):\n  " + std::string(2048, 'b'));
}

TEST_CASE("a failure names the deciding stage when the tree has several processes") {
  output result;
  result.status = exit_status::exited(1);
  CHECK(detail::failure_message("false", "", result) == "command false failed: exit code 1");
  CHECK(detail::failure_message("grep x | sort", "grep x", result) ==
        "grep x exited with code 1: command grep x | sort failed");
  result.status = exit_status::killed(15);
  CHECK(detail::failure_message("a | b", "b", result) == "b was killed by signal 15 (SIGTERM): command a | b failed");
  result.stderr_bytes = "why\n";
  CHECK(detail::timeout_message("sleep 9", result) == "command sleep 9 timed out: signal 15 (SIGTERM)\nstderr:\n  why");
}
