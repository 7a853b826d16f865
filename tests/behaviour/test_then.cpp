#include "support.hpp"

using namespace ductile;
using test::helper;

TEST_CASE("then runs the right side after the left succeeds") {
  test::leak_check check;
  CHECK(cmd("echo", "a").then(cmd("echo", "b")).read() == "a\nb");
}

TEST_CASE("a checked failure on the left ends the sequence and the right never starts") {
  test::leak_check check;
  test::temp_dir tmp;
  const auto marker = tmp / "ran";
  try {
    sh("echo partial; exit 4").then(cmd("touch", marker)).stdout_capture().run();
    FAIL("expected status_error");
  } catch (const status_error& error) {
    CHECK(error.output().status.code() == 4);
    CHECK(error.output().stdout_bytes == "partial\n");
    CHECK(error.output().processes.size() == 1);
  }
  CHECK(!std::filesystem::exists(marker));
}

TEST_CASE("an unchecked failure on the left continues like ;") {
  test::leak_check check;
  const output out = sh("exit 4").unchecked().then(cmd("echo", "next")).stdout_capture().run();
  CHECK(out.status.success());
  CHECK(out.stdout_bytes == "next\n");
  CHECK_THROWS_AS(cmd("true").then(sh("exit 5")).run(), status_error);
}

TEST_CASE("both sides share stdin, stdout and stderr") {
  test::leak_check check;
  const output out = sh("read first; echo \"1:$first\"; echo e1 >&2")
                         .then(sh("read second; echo \"2:$second\"; echo e2 >&2"))
                         .stdin_bytes("one\ntwo\n")
                         .stdout_capture()
                         .stderr_capture()
                         .run();
  CHECK(out.stdout_bytes == "1:one\n2:two\n");
  CHECK(out.stderr_bytes == "e1\ne2\n");
}

TEST_CASE("the right side's files are opened only if it runs") {
  test::leak_check check;
  test::temp_dir tmp;
  CHECK_THROWS_AS(sh("exit 1").then(cmd("true").stdout_path(tmp / "late")).run(), status_error);
  CHECK(!std::filesystem::exists(tmp / "late"));
  cmd("true").then(cmd("true").stdout_path(tmp / "late")).run();
  CHECK(std::filesystem::exists(tmp / "late"));
}

TEST_CASE("a then chain makes progress without anybody calling wait") {
  test::leak_check check;
  test::temp_dir tmp;
  const auto marker = tmp / "second-ran";
  handle h = cmd("true").then(cmd("true")).then(cmd("touch", marker)).start();
  CHECK(test::eventually([&] { return std::filesystem::exists(marker); }));
  h.wait();
}

TEST_CASE("kill forbids a pending right side from starting") {
  test::leak_check check;
  test::temp_dir tmp;
  const auto marker = tmp / "ran";
  handle h = cmd("sleep", "100").then(cmd("touch", marker)).start();
  h.kill();
  try {
    h.wait();
    FAIL("expected status_error");
  } catch (const status_error& error) {
    CHECK(error.output().status.signal() == SIGKILL);
  }
  CHECK(!std::filesystem::exists(marker));
}

TEST_CASE("a right side that cannot start is a spawn_error, and the left was reaped") {
  test::leak_check check;
  CHECK_THROWS_AS(cmd("true").then(cmd("no-such-program-ductile")).run(), spawn_error);
  CHECK_THROWS_AS((cmd("true").then(cmd("sleep", "100") | cmd("no-such-program-ductile"))).run(), spawn_error);
  handle h = cmd("true").then(cmd("no-such-program-ductile")).start();
  CHECK_THROWS_AS(h.wait(), spawn_error);
}

TEST_CASE("then inside a pipe feeds both sides' output through") {
  test::leak_check check;
  CHECK((cmd("echo", "a").then(cmd("echo", "b")) | cmd("wc", "-l")).read() == "2");
}
