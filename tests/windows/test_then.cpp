// The Windows twin of behaviour/test_then.cpp: sequences, what stops them,
// the streams both sides share, and then() inside a pipe.
#include "windows_support.hpp"

using namespace ductile;
using test::win_helper;
namespace fs = std::filesystem;

TEST_CASE("then runs the right side after the left succeeds") {
  CHECK(win_helper("echo", "a").then(win_helper("echo", "b")).read() == "a\nb");
}

TEST_CASE("a checked failure on the left ends the sequence and the right never starts") {
  test::temp_dir tmp;
  const auto marker = tmp / "ran";
  const auto error = test::expect_error<status_error>([&] {
    win_helper("print", "partial\\n")
        .then(win_helper("exit", "4"))
        .then(win_helper("touch", marker))
        .stdout_capture()
        .run();
  });
  CHECK(error.output().status.code() == exit_status::code_type{4});
  CHECK(error.output().stdout_bytes == "partial\n");
  CHECK(error.output().processes.size() == 2);
  CHECK_FALSE(fs::exists(marker));
}

TEST_CASE("an unchecked failure on the left continues like ;") {
  const output out = win_helper("exit", "4").unchecked().then(win_helper("echo", "next")).stdout_capture().run();
  CHECK(out.status.success());
  CHECK(out.stdout_bytes == "next\n");
  CHECK_THROWS_AS(win_helper("exit", "0").then(win_helper("exit", "5")).run(), status_error);
}

TEST_CASE("both sides share stdin, stdout and stderr") {
  const output out = win_helper("readline", "1")
                         .then(win_helper("err", "e1\\n"))
                         .then(win_helper("readline", "2"))
                         .then(win_helper("err", "e2\\n"))
                         .stdin_bytes("one\ntwo\n")
                         .stdout_capture()
                         .stderr_capture()
                         .run();
  CHECK(out.stdout_bytes == "1:one\n2:two\n");
  CHECK(out.stderr_bytes == "e1\ne2\n");
}

TEST_CASE("the right side's files are opened only if it runs") {
  test::temp_dir tmp;
  CHECK_THROWS_AS(win_helper("exit", "1").then(win_helper("exit", "0").stdout_path(tmp / "late")).run(), status_error);
  CHECK_FALSE(fs::exists(tmp / "late"));
  win_helper("exit", "0").then(win_helper("exit", "0").stdout_path(tmp / "late")).run();
  CHECK(fs::exists(tmp / "late"));
}

TEST_CASE("a then chain makes progress without anybody calling wait") {
  test::temp_dir tmp;
  const auto marker = tmp / "second-ran";
  handle h = win_helper("exit", "0").then(win_helper("exit", "0")).then(win_helper("touch", marker)).start();
  CHECK(test::eventually([&] { return fs::exists(marker); }));
  h.wait();
}

TEST_CASE("kill forbids a pending right side from starting") {
  test::temp_dir tmp;
  const auto marker = tmp / "ran";
  handle h = win_helper("sleep", "100000").then(win_helper("touch", marker)).start();
  h.kill();
  const auto error = test::expect_error<status_error>([&] { h.wait(); });
  CHECK_FALSE(error.output().status.success());
  // Let a right side that would wrongly start have the time to.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  CHECK_FALSE(fs::exists(marker));
  CHECK(test::children().empty());
}

TEST_CASE("a right side that cannot start is a spawn_error, and the left was reaped") {
  CHECK_THROWS_AS(win_helper("exit", "0").then(cmd("no-such-program-ductile")).run(), spawn_error);
  CHECK_THROWS_AS((win_helper("exit", "0").then(win_helper("sleep", "100000") | cmd("no-such-program-ductile"))).run(),
                  spawn_error);
  handle h = win_helper("exit", "0").then(cmd("no-such-program-ductile")).start();
  CHECK_THROWS_AS(h.wait(), spawn_error);
  CHECK(test::children().empty());
}

TEST_CASE("then inside a pipe feeds both sides' output through") {
  CHECK((win_helper("echo", "a").then(win_helper("echo", "b")) | win_helper("count_lines")).read() == "2");
}
