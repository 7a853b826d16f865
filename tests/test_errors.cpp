#include <sys/stat.h>

#include "support.hpp"

using namespace ductile;
using test::helper;

namespace {
using test::expect_error;
bool mentions(const std::exception& e, const std::string& text) {
  return std::string(e.what()).find(text) != std::string::npos;
}
}  // namespace

TEST_CASE("a program that is not found names itself and the command") {
  test::leak_check check;
  const auto error = expect_error<spawn_error>([] { cmd("no-such-program-ductile", "--flag").run(); });
  CHECK(error.step() == "exec");
  CHECK(error.code() == std::errc::no_such_file_or_directory);
  CHECK(mentions(error, "no-such-program-ductile"));
  CHECK(mentions(error, "not found"));
  CHECK(error.command() == "no-such-program-ductile --flag");
}

TEST_CASE("a program that is not executable says so") {
  test::leak_check check;
  test::temp_dir tmp;
  test::write_file(tmp / "script", "#!/bin/sh\necho hi\n");
  ::chmod((tmp / "script").c_str(), 0644);
  const auto error = expect_error<spawn_error>([&] { cmd(tmp / "script").run(); });
  CHECK(error.step() == "exec");
  CHECK(error.code() == std::errc::permission_denied);
  CHECK(mentions(error, "not executable"));
}

TEST_CASE("a dir that does not exist is a chdir error") {
  test::leak_check check;
  const auto error = expect_error<spawn_error>([] { cmd("pwd").dir("/no/such/dir").run(); });
  CHECK(error.step() == "chdir");
  CHECK(error.code() == std::errc::no_such_file_or_directory);
  CHECK(mentions(error, "/no/such/dir"));
  CHECK(mentions(error, "pwd"));
}

TEST_CASE("a stdin_path that does not exist and a stdout_path in a missing directory") {
  test::leak_check check;
  const auto in = expect_error<spawn_error>([] { cmd("cat").stdin_path("/no/such/input").run(); });
  CHECK(in.step() == "open stdin");
  CHECK(mentions(in, "/no/such/input"));
  const auto out = expect_error<spawn_error>([] { cmd("echo").stdout_path("/no/such/dir/out").run(); });
  CHECK(out.step() == "open stdout");
  CHECK(mentions(out, "/no/such/dir/out"));
}

TEST_CASE("an exception from a before_spawn hook aborts the start and propagates") {
  test::leak_check check;
  struct hook_refused : std::runtime_error {
    using std::runtime_error::runtime_error;
  };
  const auto e = (cmd("sleep", "100") | cmd("cat").before_spawn([](spawn_spec&) { throw hook_refused("no"); }));
  CHECK_THROWS_AS(e.run(), hook_refused);
  CHECK(test::children().empty());
}

TEST_CASE("a checked failure keeps every captured byte in the error") {
  test::leak_check check;
  const auto error = expect_error<status_error>(
      [] { sh("printf 'partial out'; printf 'partial err' >&2; exit 7").stdout_capture().stderr_capture().run(); });
  CHECK(error.output().stdout_bytes == "partial out");
  CHECK(error.output().stderr_bytes == "partial err");
  CHECK(error.output().status.code() == 7);
  CHECK(mentions(error, "exit code 7"));
  CHECK(mentions(error, "exit 7"));

  const auto from_read = expect_error<status_error>([] { sh("echo kept; exit 1").read(); });
  CHECK(from_read.output().stdout_bytes == "kept\n");
}

TEST_CASE("when the right side of a pipe cannot start, the left is killed and reaped first") {
  test::leak_check check;
  const auto started = std::chrono::steady_clock::now();
  CHECK_THROWS_AS((cmd("sleep", "100") | cmd("no-such-program-ductile")).run(), spawn_error);
  CHECK(test::children().empty());
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(50));
  CHECK_THROWS_AS((cmd("sleep", "100") | cmd("cat").stdin_path("/no/such")).run(), spawn_error);
  CHECK(test::children().empty());
  CHECK_THROWS_AS((cmd("sleep", "100") | cmd("cat")).stdout_path("/no/such/x").run(), spawn_error);
}

TEST_CASE("every error derives from ductile::error") {
  test::leak_check check;
  CHECK_THROWS_AS(cmd("no-such-program-ductile").run(), ductile::error);
  CHECK_THROWS_AS(cmd("false").run(), ductile::error);
}
