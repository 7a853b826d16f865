// The Windows twin of behaviour/test_reader.cpp: reading a command's output
// as it comes, through the completion port.
#include "windows_support.hpp"

using namespace ductile;
using namespace std::chrono_literals;
using test::win_helper;

TEST_CASE("reader reads stdout incrementally and reaches 0 at the end") {
  reader_handle r = win_helper("bytes", std::to_string(1 << 20)).reader();
  std::string all;
  char buffer[4096];
  while (const std::size_t n = r.read(buffer, sizeof buffer)) all.append(buffer, n);
  CHECK(all.size() == (1u << 20));
  CHECK(r.read(buffer, sizeof buffer) == 0);
  REQUIRE(r.try_wait() != nullptr);
  CHECK(r.try_wait()->status.success());
}

TEST_CASE("a reader of a failing command throws at the end, once") {
  reader_handle r = win_helper("echo", "data").then(win_helper("exit", "3")).reader();
  char buffer[64];
  CHECK(r.read(buffer, sizeof buffer) == 5);
  CHECK_THROWS_AS(r.read(buffer, sizeof buffer), status_error);
  CHECK(r.read(buffer, sizeof buffer) == 0);
}

TEST_CASE("lines of a failing command end exactly once, with the error") {
  line_range range = win_helper("lines", "2").then(win_helper("exit", "1")).lines();
  auto it = range.begin();
  REQUIRE(it != range.end());
  CHECK(*it == "line 1");
  ++it;
  CHECK(*it == "line 2");
  CHECK_THROWS_AS(++it, status_error);
  CHECK(it == range.end());
}

TEST_CASE("lines of a command that prints nothing is empty, and a failure still throws") {
  int count = 0;
  for (const auto& line : win_helper("exit", "0").lines()) count += static_cast<int>(line.size()) + 1;
  CHECK(count == 0);
  CHECK_THROWS_AS(win_helper("exit", "1").lines().begin(), status_error);
}

TEST_CASE("dropping a reader ends a command still running, its pipeline included") {
  unsigned long pid = 0;
  {
    reader_handle r = (win_helper("bytes", "100000000000") | win_helper("cat")).reader();
    char buffer[16];
    CHECK(r.read(buffer, sizeof buffer) > 0);
    pid = r.pids().at(0);
  }
  CHECK(test::eventually([&] { return !test::running(pid); }));
  CHECK(test::eventually([] { return test::children().empty(); }));
}

TEST_CASE("read_for waits at most its time and loses nothing; stderr_reader reads stderr") {
  reader_handle r = win_helper("sleep", "300").then(win_helper("echo", "late")).reader();
  char buffer[64];
  CHECK_FALSE(r.read_for(buffer, sizeof buffer, 20ms).has_value());
  std::string all;
  for (;;) {
    const auto got = r.read_for(buffer, sizeof buffer, 10s);
    REQUIRE(got.has_value());
    if (*got == 0) break;
    all.append(buffer, *got);
  }
  CHECK(all == "late\n");
  reader_handle err = win_helper("flood", "7").stdin_null().stdout_null().stderr_reader();
  std::string errors;
  while (const std::size_t n = err.read(buffer, sizeof buffer)) errors.append(buffer, n);
  CHECK(errors == "eeeeeee");
}
