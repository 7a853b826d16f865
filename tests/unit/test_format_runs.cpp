// The printed text, checked by running it.
#include "support.hpp"

using namespace ductile;
using test::helper;

TEST_CASE("pasting the printed text into sh gives the same argv") {
  test::leak_check check;
  const std::vector<std::string> nasty{"plain",  "two words", "",          "it's",       "$HOME",
                                       "`date`", "a|b;c&d",   "new\nline", "\"quoted\"", "back\\slash",
                                       "*",      "ünïcødé",   "~"};
  const expression e = helper("echo_args", nasty);
  const std::string direct = e.read();
  const std::string through_shell = sh(fmt::format("{}", e)).read();
  CHECK(direct == through_shell);
}
