// The model on its own: what building an expression accepts and refuses.
#include "portable_support.hpp"

using namespace ductile;

TEST_CASE("a NUL byte or an empty program is rejected at once") {
  CHECK_THROWS_AS(cmd(""), std::invalid_argument);
  CHECK_THROWS_AS(cmd(std::string("ec\0ho", 5)), std::invalid_argument);
  CHECK_THROWS_AS(cmd("echo", std::string("a\0b", 3)), std::invalid_argument);
  CHECK_THROWS_AS(cmd("echo", std::vector<std::string>{"ok", std::string("\0", 1)}), std::invalid_argument);
  CHECK_THROWS_AS(cmd("echo").dir(std::string("a\0b", 3)), std::invalid_argument);
  CHECK_THROWS_AS(cmd("echo").stdout_path(std::string("a\0b", 3)), std::invalid_argument);
}

TEST_CASE("environment names that are empty or contain = or NUL are rejected") {
  CHECK_THROWS_AS(cmd("env").env("", "x"), std::invalid_argument);
  CHECK_THROWS_AS(cmd("env").env("A=B", "x"), std::invalid_argument);
  CHECK_THROWS_AS(cmd("env").env(std::string("A\0", 2), "x"), std::invalid_argument);
  CHECK_THROWS_AS(cmd("env").env("A", std::string("x\0y", 3)), std::invalid_argument);
  CHECK_THROWS_AS(cmd("env").env_remove(""), std::invalid_argument);
  CHECK_THROWS_AS(cmd("env").full_env(std::map<std::string, std::string>{{"A=", "1"}}), std::invalid_argument);
}
