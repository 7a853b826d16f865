// Expressions checked by running them.
#include <list>

#include "support.hpp"

using namespace ductile;
using test::helper;

TEST_CASE("building an expression runs nothing and checks nothing on disk") {
  test::leak_check check;
  const expression e = cmd("no-such-program-anywhere").stdout_path("/no/such/dir/file").dir("/no/such/dir");
  const expression copy = e;
  CHECK(copy.tree() == e.tree());
  CHECK(test::children().empty());
}

TEST_CASE("cmd formats strings, paths, integers, floats and ranges as arguments") {
  test::leak_check check;
  const std::vector<std::string> words{"x", "y z"};
  const std::list<int> numbers{7, -8};
  const std::string text = helper("echo_args", "a", std::string("b"), std::string_view("c"),
                                  std::filesystem::path("d/e"), 42, -3, 7u, 1.5, 0.1, words, numbers)
                               .read();
  CHECK(text == "1:a\n1:b\n1:c\n3:d/e\n2:42\n2:-3\n1:7\n3:1.5\n3:0.1\n1:x\n3:y z\n1:7\n2:-8");
}

TEST_CASE("an empty range adds no argument") {
  test::leak_check check;
  CHECK(helper("echo_args", "a", std::vector<std::string>{}, "b").read() == "1:a\n1:b");
}

TEST_CASE("a string program is looked up in the child's PATH") {
  test::leak_check check;
  CHECK(cmd("echo_args", "hi").env("PATH", DUCTILE_TEST_HELPERS).read() == "2:hi");
  CHECK(cmd("echo_args", "hi").full_env(std::map<std::string, std::string>{{"PATH", DUCTILE_TEST_HELPERS}}).read() ==
        "2:hi");
  CHECK_THROWS_AS(cmd("echo_args").env("PATH", "/nonexistent").run(), spawn_error);
}

TEST_CASE("a path program is never searched in PATH and gets ./ when relative") {
  test::leak_check check;
  CHECK_THROWS_AS(cmd(std::filesystem::path("sh"), "-c", "true").run(), spawn_error);
  const auto out = cmd(std::filesystem::path("echo_args"), "x").dir(DUCTILE_TEST_HELPERS).stdout_capture();
  // With dir, a relative path resolves against the parent's directory, where there is no echo_args.
  CHECK_THROWS_AS(out.run(), spawn_error);
  test::temp_dir tmp;
  std::filesystem::copy_file(test::helper_path("echo_args"), tmp / "echo_args");
  const auto previous = std::filesystem::current_path();
  std::filesystem::current_path(tmp.path);
  const std::string text = cmd(std::filesystem::path("echo_args"), "x").dir("/").read();
  std::filesystem::current_path(previous);
  CHECK(text == "1:x");
}

TEST_CASE("sh runs a script with /bin/sh") {
  test::leak_check check;
  CHECK(sh("echo $((6 * 7))").read() == "42");
}
