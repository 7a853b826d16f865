// What this build does where the Windows backend is not there yet: every way
// of running fails at once with an error that names the command and says
// "not supported on this system", and nothing is left behind.
#include "portable_support.hpp"

using namespace ductile;

namespace {
void check_unsupported(const std::function<void()>& work) {
  try {
    work();
    FAIL("the run did not fail");
  } catch (const spawn_error& error) {
    const std::string message = error.what();
    CAPTURE(message);
    CHECK(message.find("some-program") != std::string::npos);
    CHECK(message.find("not supported on this system") != std::string::npos);
    CHECK(error.code() == std::errc::not_supported);
  }
}
}  // namespace

TEST_CASE("run(), read(), start() and reader() fail as not supported, naming the command") {
  const expression e = cmd("some-program", "an argument");
  check_unsupported([&] { e.run(); });
  check_unsupported([&] { (void)e.read(); });
  check_unsupported([&] { (void)e.stdout_capture().start().wait(); });
  check_unsupported([&] { (void)e.reader(); });
  check_unsupported([&] { (e | cmd("other")).stdout_capture().run(); });
  CHECK(test::children().empty());
}

TEST_CASE("what Windows will never have is refused in the same words") {
  remote::ssh_options elsewhere;
  elsewhere.host = "example.org";
  CHECK_THROWS_WITH_AS(cmd("some-program").on(remote::host(elsewhere)), "on(example.org): not supported on this system",
                       std::invalid_argument);
  CHECK(cmd("some-program").on(remote::host::local()).tree() != nullptr);
  check_unsupported([] { cmd("some-program").user(1000).run(); });
}
