#include "support.hpp"

TEST_CASE("the second translation unit starts and waits") {
  test::leak_check check;
  ductile::handle h = ductile::cmd("echo", "second").stdout_capture().start();
  CHECK(h.wait().stdout_bytes == "second\n");
  CHECK(fmt::format("{}", ductile::cmd("a", "b c")) == "a 'b c'");
}
