// The Windows twin of behaviour/test_handle.cpp: a started run, looked at,
// waited for, ended and let go.
#include "windows_support.hpp"

using namespace ductile;
using namespace std::chrono_literals;
using test::win_helper;

TEST_CASE("try_wait and wait_for see a running process, wait its end") {
  auto h = win_helper("sleep", "500").start();
  CHECK(h.try_wait() == nullptr);
  CHECK(h.wait_for(10ms) == nullptr);
  const auto pids = h.pids();
  REQUIRE(pids.size() == 1);
  CHECK(test::running(pids[0]));
  CHECK(h.wait().status.success());
  CHECK(h.try_wait() != nullptr);
  CHECK_FALSE(test::running(pids[0]));
}

TEST_CASE("a pipeline's pids, left to right, each a running process") {
  auto h = (win_helper("sleep", "500") | win_helper("sleep", "500") | win_helper("sleep", "500")).start();
  const auto pids = h.pids();
  REQUIRE(pids.size() == 3);
  for (const auto pid : pids) CHECK(test::running(pid));
  h.wait();
  for (const auto pid : pids) CHECK_FALSE(test::running(pid));
}

TEST_CASE("kill() ends the run; a checked wait then reports it") {
  auto h = win_helper("sleep", "30000").start();
  h.kill();
  CHECK_THROWS_AS(h.wait(), status_error);
  CHECK(test::children().empty());
}

TEST_CASE("dropping a handle ends its run; a detached one runs on") {
  unsigned long pid = 0;
  {
    auto h = win_helper("sleep", "30000").start();
    pid = h.pids().at(0);
  }
  CHECK(test::eventually([&] { return !test::running(pid); }));
  unsigned long detached = 0;
  {
    auto h = win_helper("sleep", "30000").start();
    detached = h.pids().at(0);
    h.detach();
  }
  std::this_thread::sleep_for(200ms);
  CHECK(test::running(detached));
  HANDLE process = OpenProcess(PROCESS_TERMINATE, FALSE, detached);
  TerminateProcess(process, 0);
  CloseHandle(process);
}

TEST_CASE("many runs at once, each waited for in turn") {
  std::vector<handle> runs;
  for (int i = 0; i < 20; ++i) runs.push_back(win_helper("echo", std::to_string(i)).stdout_capture().start());
  for (int i = 0; i < 20; ++i) CHECK(runs[static_cast<std::size_t>(i)].wait().stdout_bytes == std::to_string(i) + "\n");
  CHECK(test::children().empty());
}
