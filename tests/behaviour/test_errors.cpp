#include <fcntl.h>
#include <sys/stat.h>
#if __has_include("os/system_calls.hpp")
#include "os/system_calls.hpp"
#endif  // else the single header has it inline
#include <atomic>

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

TEST_CASE("round 3 defect 20: a relative program path with dir() is named once, as given") {
  test::leak_check check;
  for (const char* given : {"./no-such-program-ductile", "no-such-program-ductile"}) {
    CAPTURE(given);
    const auto error = expect_error<spawn_error>(
        [&] { cmd(std::filesystem::path(given)).dir(test::fs::temp_directory_path()).run(); });
    CHECK(mentions(error, "program \"./no-such-program-ductile\" does not exist"));
    CHECK_FALSE(mentions(error, "././"));
  }
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

namespace {
std::atomic<int> failing_call{-1};
int fail_chosen_call(ductile::detail::sys::call which) noexcept {
  return static_cast<int>(which) == failing_call.load() ? EMFILE : 0;
}
// Makes every call of one kind fail with EMFILE while alive.
struct failing {
  explicit failing(ductile::detail::sys::call which) {
    failing_call = static_cast<int>(which);
    ductile::detail::sys::set_fault_injector(fail_chosen_call);
  }
  ~failing() {
    ductile::detail::sys::set_fault_injector(nullptr);
    failing_call = -1;
  }
  failing(const failing&) = delete;
  failing& operator=(const failing&) = delete;
};
}  // namespace

TEST_CASE("an unopenable redirect is a spawn_error in the shape of every failure to start") {
  test::leak_check check;
  const auto error = expect_error<spawn_error>([] { cmd("cat").stdin_path("/no/such/file-ductile").run(); });
  CHECK(std::string(error.what()).rfind("cannot run cat", 0) == 0);
  CHECK(mentions(error, "cannot open /no/such/file-ductile for stdin: No such file or directory"));
  CHECK(error.step() == "open stdin");
}

TEST_CASE("start_detached fails with spawn_errors naming the command, never std::system_error") {
  test::leak_check check;
  using ductile::detail::sys::call;
  {
    failing no_files(call::open);
    const auto error = expect_error<spawn_error>([] { (void)cmd("sleep", "30").start_detached(); });
    CHECK(error.step() == "open stdin");
    CHECK(error.what() == std::string("cannot run sleep 30: cannot open /dev/null: Too many open files"));
  }
  {
    failing no_pipes(call::pipe);
    const auto error = expect_error<spawn_error>([] { (void)cmd("sleep", "30").start_detached(); });
    CHECK(error.step() == "pipe");
    CHECK(error.what() == std::string("cannot run sleep 30: cannot make a pipe: Too many open files"));
  }
}

TEST_CASE("a completion descriptor that cannot be made is a ductile::error naming the command") {
  test::leak_check check;
  int made = -1;
  {
    handle h = cmd("sleep", "30").start();
    {
      failing no_events(ductile::detail::sys::call::event);
      const auto error = expect_error<ductile::error>([&] { (void)h.completion_fd(); });
      CHECK(error.command() == "sleep 30");
      CHECK(mentions(error, "cannot make its completion descriptor: Too many open files"));
    }
    made = h.completion_fd();
    CHECK(made >= 3);
    h.kill();
  }
  // The descriptor belongs to the run, which the background thread lets go of
  // on its next turn.
  CHECK(test::eventually([&] { return fcntl(made, F_GETFD) == -1; }));
}
