// The Windows twin of behaviour/test_errors.cpp: every failure names the
// command and its cause, and nothing captured is lost.
#include "windows_support.hpp"

using namespace ductile;
using test::win_helper;
namespace fs = std::filesystem;

namespace {
bool mentions(const std::exception& e, const std::string& text) {
  return std::string(e.what()).find(text) != std::string::npos;
}
}  // namespace

TEST_CASE("a program that is not found names itself and the command") {
  const auto error = test::expect_error<spawn_error>([] { cmd("no-such-program-ductile", "--flag").run(); });
  CHECK(error.step() == "exec");
  CHECK(error.code() == std::errc::no_such_file_or_directory);
  CHECK(mentions(error, "no-such-program-ductile"));
  CHECK(mentions(error, "not found"));
  CHECK(error.command() == "no-such-program-ductile --flag");
  const auto path = test::expect_error<spawn_error>([] { cmd(fs::path("C:\\no\\such\\program.exe")).run(); });
  CHECK(mentions(path, "does not exist"));
}

TEST_CASE("a stdin_path that does not exist and a stdout_path in a missing directory") {
  const auto in = test::expect_error<spawn_error>([] { win_helper("cat").stdin_path("C:\\no\\such\\input").run(); });
  CHECK(in.step() == "open stdin");
  CHECK(mentions(in, "input"));
  const auto out =
      test::expect_error<spawn_error>([] { win_helper("echo").stdout_path("C:\\no\\such\\dir\\out").run(); });
  CHECK(out.step() == "open stdout");
  CHECK(test::children().empty());
}

TEST_CASE("an exception from a before_spawn hook aborts the start and propagates") {
  struct hook_refused : std::runtime_error {
    using std::runtime_error::runtime_error;
  };
  const auto e =
      win_helper("sleep", "100000") | win_helper("cat").before_spawn([](spawn_spec&) { throw hook_refused("no"); });
  CHECK_THROWS_AS(e.run(), hook_refused);
  CHECK(test::eventually([] { return test::children().empty(); }));
}

TEST_CASE("a checked failure keeps every captured byte in the error, and ends with stderr's last lines") {
  const auto error = test::expect_error<status_error>([] {
    win_helper("echo", "partial out")
        .then(win_helper("flood", "5"))
        .then(win_helper("exit", "7"))
        .stdout_capture()
        .stderr_capture()
        .stdin_null()
        .run();
  });
  CHECK(error.output().stdout_bytes.find("partial out\n") == 0);
  CHECK(error.output().stderr_bytes == "eeeee");
  CHECK(error.output().status.code() == exit_status::code_type{7});
  CHECK(mentions(error, "code 7"));
  CHECK(mentions(error, "eeeee"));
  const auto from_read =
      test::expect_error<status_error>([] { win_helper("echo", "kept").then(win_helper("exit", "1")).read(); });
  CHECK(from_read.output().stdout_bytes == "kept\n");
}

TEST_CASE("when the right side of a pipe cannot start, the left is ended and reaped first") {
  const auto started = std::chrono::steady_clock::now();
  CHECK_THROWS_AS((win_helper("sleep", "100000") | cmd("no-such-program-ductile")).run(), spawn_error);
  CHECK(test::eventually([] { return test::children().empty(); }));
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(50));
}

TEST_CASE("a failing pipeline names the stage whose status decided it") {
  const auto error =
      test::expect_error<status_error>([] { (win_helper("echo", "x") | win_helper("exit", "3")).run(); });
  CHECK(mentions(error, "exit 3"));
  CHECK(mentions(error, "exited with code 3"));
}

TEST_CASE("every error derives from ductile::error") {
  CHECK_THROWS_AS(cmd("no-such-program-ductile").run(), ductile::error);
  CHECK_THROWS_AS(win_helper("exit", "1").run(), ductile::error);
  CHECK_THROWS_AS(win_helper("sleep", "10000").timeout(std::chrono::milliseconds(100)).run(), ductile::error);
}
