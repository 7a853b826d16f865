// Two translation units of one program both include the whole library: with
// the single header this checks that every definition in it is inline.
#include "support.hpp"

TEST_CASE("the first translation unit runs a pipeline") {
  test::leak_check check;
  CHECK((ductile::cmd("echo", "first") | ductile::cmd("cat")).read() == "first");
}
