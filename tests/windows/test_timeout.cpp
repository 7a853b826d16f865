// The Windows twin of behaviour/test_timeout.cpp. A timeout's request to
// stop ends the job there (there is no SIGTERM to ignore), so the status
// is exit code 1 whether or not a grace period follows.
#include "windows_support.hpp"

using namespace ductile;
using namespace std::chrono_literals;
using test::win_helper;

TEST_CASE("a timeout ends a long command with timeout_error carrying what was captured") {
  const auto started = std::chrono::steady_clock::now();
  try {
    win_helper("echo", "before").then(win_helper("sleep", "100000")).stdout_capture().timeout(200ms).run();
    FAIL("expected timeout_error");
  } catch (const timeout_error& error) {
    CHECK(error.output().stdout_bytes == "before\n");
    CHECK(error.output().status.code() == exit_status::code_type{1});
    CHECK(std::string(error.what()).find("timed out") != std::string::npos);
  }
  CHECK(std::chrono::steady_clock::now() - started < 30s);
  CHECK(test::children().empty());
}

TEST_CASE("a timeout is a status_error, and an outer unchecked makes it a plain status") {
  CHECK_THROWS_AS(win_helper("sleep", "100000").timeout(50ms).run(), status_error);
  const output out = win_helper("sleep", "100000").timeout(50ms).unchecked().run();
  CHECK(out.status.code() == exit_status::code_type{1});
}

TEST_CASE("a command that finishes in time is not affected") {
  CHECK(win_helper("echo", "quick").timeout(30s).read() == "quick");
}

TEST_CASE("a timeout covers a whole pipe, grandchildren included") {
  handle h = (win_helper("sleep", "100000") | win_helper("grandchild")).stdout_null().timeout(200ms).start();
  CHECK_THROWS_AS(h.wait(), timeout_error);
  CHECK(test::eventually([] { return test::children().empty(); }));
}

TEST_CASE("a timeout of a then chain stops it and the rest never starts") {
  test::temp_dir tmp;
  const auto marker = tmp / "after";
  CHECK_THROWS_AS(win_helper("sleep", "100000").then(win_helper("echo", "x").stdout_path(marker)).timeout(100ms).run(),
                  timeout_error);
  CHECK(!std::filesystem::exists(marker));
}

TEST_CASE("timeouts compose, and only the subtree under one is stopped") {
  CHECK(((win_helper("exit", "0") | win_helper("exit", "0")).timeout(10s).then(win_helper("echo", "c"))).read() == "c");
  const auto went_on = (win_helper("sleep", "100000").timeout(50ms).unchecked().then(win_helper("echo", "went on")))
                           .stdout_capture()
                           .run();
  CHECK(went_on.stdout_bytes == "went on\n");
  const output out =
      (win_helper("sleep", "100000").timeout(50ms).unchecked() | win_helper("echo", "right")).stdout_capture().run();
  CHECK(out.stdout_bytes == "right\n");
  REQUIRE(out.processes.size() == 2);
  CHECK(out.processes[1].status.success());
}

TEST_CASE("wait_for does not kill") {
  handle h = win_helper("sleep", "300").start();
  CHECK(h.wait_for(10ms) == nullptr);
  CHECK(h.wait().status.success());
}
