#include <range/v3/range/conversion.hpp>
#include <range/v3/view/filter.hpp>
#include <range/v3/view/transform.hpp>

// clang before 15 cannot compile libstdc++ 12's <ranges> at all.
#if __cplusplus >= 202002L && __has_include(<ranges>) && !(defined(__clang__) && __clang_major__ < 15)
#include <ranges>
#define DUCTILE_TEST_STD_RANGES 1
#endif

#include "support.hpp"

using namespace ductile;
using test::helper;

TEST_CASE("reader reads stdout incrementally and reaches 0 at the end") {
  test::leak_check check;
  reader_handle r = helper("write_bytes", 1 << 20).reader();
  std::string all;
  char buffer[4096];
  while (const std::size_t n = r.read(buffer, sizeof buffer)) all.append(buffer, n);
  CHECK(all.size() == (1u << 20));
  CHECK(r.read(buffer, sizeof buffer) == 0);
  REQUIRE(r.try_wait() != nullptr);
  CHECK(r.try_wait()->status.success());
}

TEST_CASE("a reader of a failing command throws at the end, once") {
  test::leak_check check;
  reader_handle r = sh("echo data; exit 3").reader();
  char buffer[64];
  CHECK(r.read(buffer, sizeof buffer) == 5);
  CHECK_THROWS_AS(r.read(buffer, sizeof buffer), status_error);
  CHECK(r.read(buffer, sizeof buffer) == 0);
}

TEST_CASE("lines yields each line without its newline, including a last unterminated one") {
  test::leak_check check;
  std::vector<std::string> seen;
  for (const std::string& line : sh("printf 'one\\r\\ntwo\\n\\nlast'").lines()) seen.push_back(line);
  CHECK(seen == std::vector<std::string>{"one", "two", "", "last"});
}

TEST_CASE("lines of a failing command end exactly once, with the error") {
  test::leak_check check;
  line_range range = sh("echo a; echo b; exit 1").lines();
  auto it = range.begin();
  REQUIRE(it != range.end());
  CHECK(*it == "a");
  ++it;
  CHECK(*it == "b");
  CHECK_THROWS_AS(++it, status_error);
  CHECK(it == range.end());
  CHECK(range.begin() == range.end());
}

TEST_CASE("lines of a command that prints nothing is empty, and a failure still throws") {
  test::leak_check check;
  int count = 0;
  for (const auto& line : cmd("true").lines()) count += static_cast<int>(line.size()) + 1;
  CHECK(count == 0);
  CHECK_THROWS_AS(cmd("false").lines().begin(), status_error);
}

TEST_CASE("lines work with range-v3 views") {
  test::leak_check check;
  const auto odd = cmd("seq", "1", "10").lines() |
                   ranges::views::filter([](const std::string& s) { return std::stoi(s) % 2 == 1; }) |
                   ranges::views::transform([](const std::string& s) { return s + "!"; }) |
                   ranges::to<std::vector<std::string>>();
  CHECK(odd == std::vector<std::string>{"1!", "3!", "5!", "7!", "9!"});
}

#ifdef DUCTILE_TEST_STD_RANGES
TEST_CASE("lines work with C++20 std::ranges views") {
  test::leak_check check;
  std::vector<std::string> odd;
  for (const std::string& line :
       cmd("seq", "1", "10").lines() | std::views::filter([](const std::string& s) { return std::stoi(s) % 2 == 1; }))
    odd.push_back(line);
  CHECK(odd == std::vector<std::string>{"1", "3", "5", "7", "9"});
}
#endif

TEST_CASE("dropping a reader kills and reaps a command still running") {
  test::leak_check check;
  pid_t pid;
  {
    reader_handle r = (cmd("yes") | cmd("cat")).reader();
    char buffer[16];
    CHECK(r.read(buffer, sizeof buffer) > 0);
    pid = r.pids().at(0);
  }
  CHECK(::kill(pid, 0) != 0);
  {
    auto range = cmd("yes").lines();
    CHECK(*range.begin() == "y");
  }
}

TEST_CASE("lines arrive while the command is still running") {
  test::leak_check check;
  test::temp_dir tmp;
  const auto gate = tmp / "gate";
  auto range = sh("echo first; while [ ! -e '" + gate.string() + "' ]; do sleep 0.01; done; echo second").lines();
  auto it = range.begin();
  CHECK(*it == "first");  // the command is blocked until the gate exists
  test::write_file(gate, "");
  ++it;
  CHECK(*it == "second");
}
