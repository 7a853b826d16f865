#include <atomic>

#include "support.hpp"

using namespace ductile;
using test::helper;
using namespace std::chrono_literals;

TEST_CASE("start returns at once and wait returns the output, repeatably") {
  test::leak_check check;
  handle h = cmd("echo", "hi").stdout_capture().start();
  CHECK(h.wait().stdout_bytes == "hi\n");
  CHECK(h.wait().stdout_bytes == "hi\n");
  CHECK(h.try_wait() != nullptr);
}

TEST_CASE("wait throws as run would, every time") {
  test::leak_check check;
  handle h = sh("exit 2").start();
  CHECK_THROWS_AS(h.wait(), status_error);
  CHECK_THROWS_AS(h.wait(), status_error);
}

TEST_CASE("try_wait never blocks and wait_for does not kill") {
  test::leak_check check;
  handle h = cmd("sleep", "100").start();
  const auto before = std::chrono::steady_clock::now();
  for (int i = 0; i < 100; ++i) CHECK(h.try_wait() == nullptr);
  CHECK(h.wait_for(20ms) == nullptr);
  CHECK(h.wait_until(std::chrono::steady_clock::now() + 10ms) == nullptr);
  CHECK(std::chrono::steady_clock::now() - before < 10s);
  CHECK(h.pids().size() == 1);
  h.kill();
  CHECK_THROWS_AS(h.wait(), status_error);
}

TEST_CASE("after kill, wait reports the signal, an error unless unchecked") {
  test::leak_check check;
  handle checked = cmd("sleep", "100").start();
  checked.kill();
  try {
    checked.wait();
    FAIL("expected status_error");
  } catch (const status_error& error) {
    CHECK(error.output().status.signal() == SIGKILL);
  }
  handle unchecked = cmd("sleep", "100").unchecked().start();
  unchecked.kill();
  CHECK(unchecked.wait().status.signal() == SIGKILL);
}

TEST_CASE("send_signal reaches every live process") {
  test::leak_check check;
  handle h = (cmd("sleep", "100") | cmd("sleep", "100")).unchecked().start();
  CHECK(h.pids().size() == 2);
  h.send_signal(SIGTERM);
  const output& out = h.wait();
  REQUIRE(out.processes.size() == 2);
  CHECK(out.processes[0].status.signal() == SIGTERM);
  CHECK(out.processes[1].status.signal() == SIGTERM);
}

TEST_CASE("wait, try_wait and kill from several threads at once") {
  test::leak_check check;
  for (int round = 0; round < 20; ++round) {
    handle h = (cmd("sleep", "100") | cmd("cat")).start();
    std::atomic<int> saw_error{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 6; ++t) {
      threads.emplace_back([&, t] {
        if (t % 3 == 0) h.kill();
        if (t % 3 == 1) (void)h.pids();
        try {
          h.wait();
        } catch (const status_error&) {
          ++saw_error;
        }
        try {
          (void)h.try_wait();
        } catch (const status_error&) {
        }
      });
    }
    for (auto& thread : threads) thread.join();
    CHECK(saw_error == 6);
  }
}

TEST_CASE("the destructor kills and reaps a running expression") {
  test::leak_check check;
  pid_t pid;
  {
    handle h = cmd("sleep", "100").start();
    pid = h.pids().at(0);
  }
  CHECK(::kill(pid, 0) != 0);
}

TEST_CASE("a detached handle lets the process run and it is still reaped") {
  test::leak_check check;
  test::temp_dir tmp;
  const auto marker = tmp / "done";
  {
    handle h = sh("sleep 0.2; touch '" + marker.string() + "'").start();
    h.detach();
  }
  CHECK(test::eventually([&] { return std::filesystem::exists(marker); }));
}

TEST_CASE("a moved handle hands over the responsibility") {
  test::leak_check check;
  handle first = cmd("echo", "moved").stdout_capture().start();
  handle second = std::move(first);
  CHECK(second.wait().stdout_bytes == "moved\n");
  handle third = cmd("sleep", "100").start();
  third = std::move(second);  // kills and reaps the sleep
  CHECK(third.wait().stdout_bytes == "moved\n");
}

TEST_CASE("many started handles share one background thread") {
  test::leak_check check;
  const int before = test::thread_count();
  std::vector<handle> handles;
  for (int i = 0; i < 50; ++i) handles.push_back(cmd("sleep", "100").start());
  CHECK(test::thread_count() == before);
  for (auto& h : handles) h.kill();
}
