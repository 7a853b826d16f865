// The Windows twin of behaviour/test_pipe.cpp: both sides at once, duct's
// status precedence, a writer whose reader has gone, and three stages.
#include "windows_support.hpp"

using namespace ductile;
using test::win_helper;

TEST_CASE("a pipe feeds the left's stdout into the right's stdin, both at once") {
  CHECK((win_helper("echo", "hi") | win_helper("cat")).read() == "hi");
  CHECK(win_helper("lines", "3").pipe(win_helper("count_lines")).read() == "3");
  CHECK((win_helper("bytes", std::to_string(3 << 20)) | win_helper("cat") | win_helper("count")).read() ==
        std::to_string(3 << 20));
  // Both run at once: a reader that answers only after its writer has
  // written more than a pipe holds would otherwise never finish.
  CHECK((win_helper("bytes", std::to_string(8 << 20)) | win_helper("count")).read() == std::to_string(8 << 20));
}

namespace {

// One side of the matrix: reads its stdin to the end, then exits with `code`.
expression side(int code, bool checked) {
  expression e = win_helper("drain_exit", std::to_string(code));
  return checked ? e : e.unchecked();
}

}  // namespace

TEST_CASE("pipe status precedence matches duct") {
  struct row {
    int left;
    bool left_checked;
    int right;
    bool right_checked;
    bool throws;
    unsigned status;
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
      const auto error = test::expect_error<status_error>([&] { e.run(); });
      CHECK(error.output().status.code() == exit_status::code_type{r.status});
    } else {
      CHECK(e.run().status.code() == exit_status::code_type{r.status});
    }
  }
}

TEST_CASE("a writer whose reader has gone is not left blocked") {
  // Windows has no SIGPIPE: the writer's next WriteFile fails with
  // ERROR_NO_DATA and its own exit code decides (helper.exe's yes exits 0).
  CHECK((win_helper("yes") | win_helper("head", "1")).read() == "y");
  const output out = (win_helper("yes") | win_helper("head", "2")).stdout_capture().run();
  CHECK(out.stdout_bytes == "y\ny\n");
  REQUIRE(out.processes.size() == 2);
  CHECK(out.processes[0].status.success());
  // A writer that reports the broken pipe as a failure is one, as on POSIX
  // any status other than SIGPIPE is.
  CHECK_THROWS_AS((win_helper("bytes", std::to_string(16 << 20)) | win_helper("head", "0")).run(), status_error);
  CHECK(test::children().empty());
}

TEST_CASE("three stages run together and all are reaped") {
  const output out =
      (win_helper("lines", "5") | win_helper("head", "3") | win_helper("count_lines")).stdout_capture().run();
  CHECK(out.stdout_bytes == "3\n");
  CHECK(out.processes.size() == 3);
  CHECK(test::children().empty());
}
