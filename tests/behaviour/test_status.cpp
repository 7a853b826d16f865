// How statuses pass up the tree: duct's precedence for pipes, unchecked()
// and ok_codes() wrapping the status that comes out of their subtree; what a
// failure's message says; passed descriptors and which().
#include <fcntl.h>
#include <sys/stat.h>

#include "support.hpp"

using namespace ductile;
namespace fs = std::filesystem;

namespace {

struct outcome {
  bool threw = false;
  int code = -1;
};

outcome run_status(const expression& e) {
  outcome result;
  try {
    result.code = e.run().status.code().value_or(-1);
  } catch (const status_error& error) {
    result.threw = true;
    result.code = error.output().status.code().value_or(-1);
  }
  return result;
}

const expression one = sh("exit 1");
const expression two = sh("exit 2");
const expression ok = cmd("true");

}  // namespace

TEST_CASE("defect 1: the pipe precedence table, with unchecked on either side and around") {
  test::leak_check check;
  struct row {
    const char* name;
    expression e;
    bool threw;
    int code;
  };
  const row table[] = {
      {"a | b", one | two, true, 2},
      {"a.unchecked() | b", one.unchecked() | two, true, 2},
      {"a | b.unchecked()", one | two.unchecked(), true, 1},
      {"a.unchecked() | b.unchecked()", one.unchecked() | two.unchecked(), false, 2},
      {"(a | b).unchecked()", (one | two).unchecked(), false, 2},
      {"(a | b.unchecked()).unchecked()", (one | two.unchecked()).unchecked(), false, 1},
      {"(a.unchecked() | b).unchecked()", (one.unchecked() | two).unchecked(), false, 2},
      {"(a.unchecked() | b.unchecked()).unchecked()", (one.unchecked() | two.unchecked()).unchecked(), false, 2},
      {"a | true", one | ok, true, 1},
      {"a.unchecked() | true", one.unchecked() | ok, false, 1},
      {"(a | true).unchecked()", (one | ok).unchecked(), false, 1},
      {"true | b", ok | two, true, 2},
      {"true | b.unchecked()", ok | two.unchecked(), false, 2},
  };
  for (const auto& r : table) {
    CAPTURE(r.name);
    const outcome got = run_status(r.e);
    CHECK(got.threw == r.threw);
    CHECK(got.code == r.code);
  }
}

TEST_CASE("defect 1: a then() inside unchecked() never starts its right side after a failure") {
  test::leak_check check;
  test::temp_dir tmp;
  const auto marker = tmp / "deployed";
  const outcome got = run_status(cmd("false").then(cmd("touch", marker)).unchecked());
  CHECK_FALSE(got.threw);
  CHECK(got.code == 1);
  CHECK_FALSE(test::fs::exists(marker));
  // a.unchecked().then(b) is `a; b`: b runs and its failure is checked.
  const outcome sequence = run_status(cmd("false").unchecked().then(cmd("touch", marker).then(two)));
  CHECK(test::fs::exists(marker));
  CHECK(sequence.threw);
  CHECK(sequence.code == 2);
}

TEST_CASE("defect 1: a fired timeout inside unchecked() stops the then() and is not an error") {
  test::leak_check check;
  test::temp_dir tmp;
  const auto marker = tmp / "after";
  const auto result =
      cmd("sleep", "5").timeout(std::chrono::milliseconds(200)).then(cmd("touch", marker)).unchecked().run();
  CHECK(result.status.signal() == SIGTERM);
  CHECK_FALSE(test::fs::exists(marker));
  // Without unchecked the same is a timeout_error.
  CHECK_THROWS_AS(cmd("sleep", "5").timeout(std::chrono::milliseconds(100)).then(cmd("true")).run(), timeout_error);
}

TEST_CASE("defect 1: unchecked() on a started handle and on a then() chain's left") {
  test::leak_check check;
  auto h = (one | two.unchecked()).unchecked().start();
  CHECK(h.wait().status.code() == 1);
  CHECK(cmd("false").unchecked().then(cmd("echo", "ran")).read() == "ran");
  CHECK_THROWS_AS(cmd("false").then(cmd("echo", "ran")).unchecked().then(cmd("false")).run(), status_error);
}

namespace {

expression exits(int code) { return cmd("sh", "-c", "exit " + std::to_string(code)); }

std::vector<int> listed_fds(const std::string& text) {
  std::vector<int> fds;
  std::istringstream in(text);
  for (int fd; in >> fd;) fds.push_back(fd);
  return fds;
}

}  // namespace

TEST_CASE("exit_status is a code or a signal, and still converts to and from a wait status") {
  static_assert(std::is_same_v<exit_status::code_type, int>);
  constexpr exit_status three = exit_status::exited(3);
  static_assert(three.code() == 3 && !three.signal() && !three.success() && three.raw() == 3 << 8);
  constexpr exit_status killed = exit_status::killed(SIGSEGV, true);
  static_assert(!killed.code() && killed.signal() == SIGSEGV && killed.core_dumped());
  static_assert(exit_status(killed.raw()) == killed && exit_status(three.raw()) == three);
  static_assert(exit_status::exited(0).success() && exit_status().success() && !exit_status::killed(SIGKILL).success());
  static_assert(exit_status::exited(256 + 7).code() == 7);  // a code is 8 bits on POSIX, as exit() truncates it
  static_assert(exit_status::killed(SIGKILL) != exit_status::exited(SIGKILL));
  // And from real processes.
  const output code = cmd("sh", "-c", "exit 7").unchecked().run();
  CHECK(code.status == exit_status::exited(7));
  CHECK(code.status.raw() == 7 << 8);
  const output signalled = cmd("sh", "-c", "kill -TERM $$").unchecked().run();
  CHECK(signalled.status == exit_status::killed(SIGTERM));
  CHECK(!signalled.status.code());
  CHECK(signalled.status.signal() == SIGTERM);
}

TEST_CASE("ok_codes: listed codes are success, 0 only if listed, signals stay errors") {
  test::leak_check check;
  CHECK(exits(1).ok_codes({0, 1}).run().status.code() == 1);
  CHECK(exits(0).ok_codes({0, 1}).run().status.success());
  CHECK_THROWS_AS(exits(2).ok_codes({0, 1}).run(), status_error);
  CHECK_THROWS_AS(exits(0).ok_codes({1}).run(), status_error);  // 0 unlisted
  CHECK_THROWS_AS(exits(1).ok_codes({}).run(), status_error);   // an empty list checks as usual
  CHECK(exits(0).ok_codes({}).run().status.success());
  CHECK_THROWS_AS(sh("kill -9 $$").ok_codes({0, 1, 9, 137}).run(), status_error);
  CHECK(cmd("grep", "-q", "absent").stdin_bytes("present\n").ok_codes({0, 1}).run().status.code() == 1);
  CHECK_THROWS_AS(exits(0).ok_codes({256}), std::invalid_argument);
}

TEST_CASE("ok_codes composes with pipes, then and unchecked by the same precedence rules") {
  test::leak_check check;
  // Left of a pipe: accepted, so not an error; as with unchecked(), the
  // left's non-zero status is the pipe's when the right side succeeded.
  CHECK((exits(1).ok_codes({0, 1}) | cmd("true")).run().status.code() == 1);
  // Right side accepted but non-zero: its status is the result, and not an error.
  CHECK((cmd("true") | exits(1).ok_codes({0, 1})).run().status.code() == 1);
  // A checked failure on the left still beats an accepted right side.
  CHECK_THROWS_AS((exits(2) | exits(1).ok_codes({0, 1})).run(), status_error);
  // Around a pipe: the status that comes out is judged.
  CHECK((exits(1) | cmd("true")).ok_codes({0, 1}).run().status.code() == 1);
  // then: an accepted code lets the right side run, as an unchecked one would.
  CHECK(exits(1).ok_codes({0, 1}).then(cmd("echo", "ran")).read() == "ran");
  // Around then: an accepted failure of the left still stops the right, like `(a && b) || true`.
  CHECK(exits(1).then(cmd("echo", "ran")).ok_codes({0, 1}).read().empty());
  // Codes outside the list keep their state: an unchecked status stays unchecked.
  CHECK(exits(2).unchecked().ok_codes({0, 1}).run().status.code() == 2);
  CHECK(exits(2).ok_codes({0, 1}).unchecked().run().status.code() == 2);
}

TEST_CASE("pass_fd gives the child exactly the descriptors asked for above 2") {
  test::leak_check check;
  int ends[2];
  REQUIRE(pipe2(ends, O_CLOEXEC) == 0);
  const int unrelated = open("/dev/null", O_RDONLY);  // without O_CLOEXEC: must not reach the child
  const std::string listed = test::helper("list_fds").pass_fd(5, ends[1]).pass_fd(9, ends[0]).read();
  CHECK(listed_fds(listed) == std::vector<int>{0, 1, 2, 5, 9});
  // The child writes into the parent's pipe through its descriptor 7.
  cmd("sh", "-c", "echo through-seven >&7").pass_fd(7, ends[1]).run();
  char buffer[64] = {};
  CHECK(read(ends[0], buffer, sizeof buffer) == 14);
  CHECK(std::string(buffer) == "through-seven\n");
  // The inner pass_fd of the same number wins.
  cmd("sh", "-c", "echo inner >&6").pass_fd(6, ends[1]).pass_fd(6, unrelated).run();
  CHECK(read(ends[0], buffer, sizeof buffer) == 6);
  close(unrelated);
  close(ends[0]);
  close(ends[1]);
}

TEST_CASE("pass_fd: a descriptor that already has its number, and sources in each other's places") {
  test::leak_check check;
  int ends[2];
  REQUIRE(pipe2(ends, O_CLOEXEC) == 0);
  // pass_fd's own duplicate lands on the lowest free number: ask for exactly that one.
  const int lowest = open("/dev/null", O_RDONLY | O_CLOEXEC);
  close(lowest);
  cmd("sh", "-c", "echo same >&" + std::to_string(lowest)).pass_fd(lowest, ends[1]).run();
  char buffer[64] = {};
  CHECK(read(ends[0], buffer, sizeof buffer) == 5);
  // Two passed descriptors exchanged with the standard streams around them.
  const std::string listed = test::helper("list_fds")
                                 .pass_fd(3, ends[1])
                                 .pass_fd(4, ends[0])
                                 .stderr_to_stdout()
                                 .stdout_capture()
                                 .run()
                                 .stdout_bytes;
  CHECK(listed_fds(listed) == std::vector<int>{0, 1, 2, 3, 4});
  close(ends[0]);
  close(ends[1]);
}

TEST_CASE("pass_fd rejects numbers below 3 and descriptors that are not open") {
  CHECK_THROWS_AS(cmd("true").pass_fd(2, 0), std::invalid_argument);
  CHECK_THROWS_AS(cmd("true").pass_fd(5, -1), std::invalid_argument);
  CHECK_THROWS_AS(cmd("true").pass_fd(70000, 0), std::invalid_argument);
}

TEST_CASE("a failure's message ends with the last lines captured on stderr") {
  test::leak_check check;
  const auto error =
      test::expect_error<status_error>([] { sh("echo first >&2; echo second >&2; exit 3").stderr_capture().run(); });
  CHECK(std::string(error.what()) ==
        "command /bin/sh -c 'echo first >&2; echo second >&2; exit 3' [stderr_capture] "
        "failed: exit code 3\nstderr:\n  first\n  second");
  CHECK(error.output().stderr_bytes == "first\nsecond\n");  // nothing lost

  const auto many = test::expect_error<status_error>(
      [] { sh("for i in $(seq 1 15); do echo line$i >&2; done; exit 1").stderr_capture().run(); });
  const std::string text = many.what();
  CHECK(text.substr(text.find('\n')) ==
        "\nstderr (truncated):\n  line6\n  line7\n  line8\n  line9\n  line10\n  line11\n  line12\n  line13\n  "
        "line14\n  line15");

  // Uncaptured stderr leaves the message as it was.
  const auto plain = test::expect_error<status_error>([] { cmd("false").run(); });
  CHECK(std::string(plain.what()) == "command false failed: exit code 1");
}

TEST_CASE("a failing pipeline's message names the stage whose status decided it") {
  test::leak_check check;
  const auto error = test::expect_error<status_error>(
      [] { (cmd("grep", "-E", "absent") | cmd("sort") | cmd("head", "-n", "1")).stdin_bytes("x\n").run(); });
  CHECK(std::string(error.what()) ==
        "grep -E absent exited with code 1: command (grep -E absent | sort | head -n 1) [stdin_bytes 2] failed");
  const auto killed = test::expect_error<status_error>([] { (cmd("true") | sh("kill -9 $$")).run(); });
  CHECK(std::string(killed.what()) ==
        "/bin/sh -c 'kill -9 $$' was killed by signal 9 (SIGKILL): command true | "
        "/bin/sh -c 'kill -9 $$' failed");
}

TEST_CASE("which finds what cmd() would run, in the child's PATH") {
  test::temp_dir dir;
  fs::create_directories(dir / "bin");
  test::write_file(dir / "bin" / "tool", "#!/bin/sh\necho tool\n");
  fs::permissions(dir / "bin" / "tool", fs::perms::owner_all);
  test::write_file(dir / "bin" / "plain", "not executable");

  const auto sh_path = which("sh");
  REQUIRE(sh_path);
  CHECK(sh_path->front() == '/');
  CHECK(access(sh_path->c_str(), X_OK) == 0);
  CHECK(which("no-such-program-anywhere") == std::nullopt);
  CHECK(which("tool") == std::nullopt);

  const auto context = cmd("x").env("PATH", (dir / "bin").string());
  CHECK(which("tool", context) == (dir / "bin" / "tool").string());
  CHECK(which("plain", context) == std::nullopt);  // not executable: execvp would skip it
  CHECK(cmd("tool").env("PATH", (dir / "bin").string()).read() == "tool");
  // A relative PATH entry is searched in the child's directory.
  CHECK(which("tool", cmd("x").env("PATH", "bin").dir(dir.path.string())) == (dir / "bin" / "tool").string());
  // A name with a slash is a path relative to the parent.
  CHECK(which((dir / "bin" / "tool").string()) == (dir / "bin" / "tool").string());
  CHECK_THROWS_AS(which(""), std::invalid_argument);
}
