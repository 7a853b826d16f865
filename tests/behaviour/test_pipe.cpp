#include "support.hpp"

using namespace ductile;
using test::helper;

TEST_CASE("a pipe feeds the left's stdout into the right's stdin, both at once") {
  test::leak_check check;
  CHECK((cmd("echo", "hi") | cmd("sed", "s/i/o/")).read() == "ho");
  CHECK(cmd("echo", "a b c").pipe(cmd("wc", "-w")).read() == "3");
  CHECK((helper("write_bytes", 3 << 20) | cmd("cat") | cmd("wc", "-c")).read() == std::to_string(3 << 20));
}

namespace {
// One side of the matrix: a status and whether it is checked.
expression side(int code, bool checked) {
  expression e = sh("cat >/dev/null; exit " + std::to_string(code));
  return checked ? e : e.unchecked();
}
}  // namespace

TEST_CASE("pipe status precedence matches duct") {
  test::leak_check check;
  struct row {
    int left;
    bool left_checked;
    int right;
    bool right_checked;
    bool throws;
    int status;
  };
  // right failed checked -> right; else left failed checked -> left;
  // else right if non-zero; else left.
  const row rows[] = {
      {0, true, 0, true, false, 0},   {1, true, 0, true, true, 1},    {0, true, 2, true, true, 2},
      {1, true, 2, true, true, 2},    {1, false, 2, true, true, 2},   {1, true, 2, false, true, 1},
      {1, false, 2, false, false, 2}, {1, false, 0, false, false, 1}, {0, false, 2, false, false, 2},
      {1, false, 0, true, false, 1},
  };
  for (const auto& r : rows) {
    CAPTURE(r.left);
    CAPTURE(r.left_checked);
    CAPTURE(r.right);
    CAPTURE(r.right_checked);
    const expression e = side(r.left, r.left_checked) | side(r.right, r.right_checked);
    if (r.throws) {
      try {
        e.run();
        FAIL("expected status_error");
      } catch (const status_error& error) {
        CHECK(error.output().status.code() == r.status);
      }
    } else {
      CHECK(e.run().status.code() == r.status);
    }
  }
}

TEST_CASE("a writer killed by SIGPIPE on the left of a pipe is not an error") {
  test::leak_check check;
  CHECK((cmd("yes") | cmd("head", "-n1")).read() == "y");
  const output out = (cmd("yes") | cmd("head", "-n1")).stdout_capture().run();
  CHECK(out.status.success());
  REQUIRE(out.processes.size() == 2);
  CHECK(out.processes[0].status.signal() == SIGPIPE);
}

TEST_CASE("SIGPIPE on the right side is still an error") {
  test::leak_check check;
  CHECK_THROWS_AS(sh("kill -PIPE $$").run(), status_error);
  CHECK_THROWS_AS((cmd("true") | sh("kill -PIPE $$")).run(), status_error);
}

TEST_CASE("three stages run together and all are reaped") {
  test::leak_check check;
  const output out = (cmd("printf", "c\\nb\\na\\n") | cmd("sort") | cmd("head", "-n2")).stdout_capture().run();
  CHECK(out.stdout_bytes == "a\nb\n");
  CHECK(out.processes.size() == 3);
}
