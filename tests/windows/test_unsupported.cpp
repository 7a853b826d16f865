// What Windows does not have is refused in the same words everywhere: at
// build time where the expression alone decides, else when the run starts,
// naming the command.
#include "windows_support.hpp"

using namespace ductile;

TEST_CASE("sh(), pass_fd(), on(host) and on(slurm) are refused when the expression is built") {
  CHECK_THROWS_WITH_AS(sh("echo hi"), doctest::Contains("not supported on this system"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(test::win_helper("echo").pass_fd(3, 0), "pass_fd(3, 0): not supported on this system",
                       std::invalid_argument);
  remote::ssh_options elsewhere;
  elsewhere.host = "example.org";
  CHECK_THROWS_WITH_AS(cmd("some-program").on(remote::host(elsewhere)), "on(example.org): not supported on this system",
                       std::invalid_argument);
  CHECK(cmd("some-program").on(remote::host::local()).tree() != nullptr);
  CHECK_THROWS_WITH_AS(cmd("some-program").on(cluster::slurm()), "on(slurm): not supported on this system",
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(pool(cluster::slurm(), 4).submit(cmd("some-program")), "on(slurm): not supported on this system",
                       std::invalid_argument);
}

TEST_CASE("credentials, umask and new_session fail when the run starts, naming the command") {
  const expression echo = test::win_helper("echo", "x");
  for (const expression& e : {echo.user(1000), echo.group(1000), echo.umask(022), echo.new_session()}) {
    const auto error = test::expect_error<spawn_error>([&] { e.run(); });
    const std::string message = error.what();
    CAPTURE(message);
    CHECK(message.find("helper") != std::string::npos);
    CHECK(message.find("not supported on this system") != std::string::npos);
    CHECK(error.code() == std::errc::not_supported);
  }
  CHECK(test::children().empty());
}

TEST_CASE("the jobserver is not supported: a pool cannot serve one") {
  pool p(4);
  try {
    p.serve_jobserver();
    FAIL("serve_jobserver() did not fail");
  } catch (const std::system_error& error) {
    CHECK(error.code() == std::errc::not_supported);
    CHECK(std::string(error.what()).find("not supported on this system") != std::string::npos);
  }
}

TEST_CASE("a process is not sent signals Windows has no meaning for") {
  auto h = test::win_helper("sleep", "10000").start();
  CHECK_THROWS_WITH_AS(h.send_signal(1), doctest::Contains("not supported on this system"), std::invalid_argument);
  h.kill();
}
