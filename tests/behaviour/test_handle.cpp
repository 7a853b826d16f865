#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <thread>

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

namespace {
// Waits, without reaping it, until `pid` has exited (or was already reaped).
void until_exited(pid_t pid) {
  for (;;) {
    siginfo_t info{};
    const int got = ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT);
    if (got != 0 || info.si_pid == pid) return;
    std::this_thread::yield();
  }
}
}  // namespace

TEST_CASE("round 3 defect 6: try_wait() right after the last process exits reports the exit, with the output") {
  test::leak_check check;
  for (int i = 0; i < 200; ++i) {
    CAPTURE(i);
    handle plain = cmd("true").start();
    until_exited(plain.pids().at(0));
    const output* done = plain.try_wait();
    REQUIRE(done != nullptr);
    CHECK(done->status.success());

    handle captured = cmd("echo", "hi").stdout_capture().start();
    until_exited(captured.pids().at(0));
    done = captured.try_wait();
    REQUIRE(done != nullptr);
    CHECK(done->stdout_bytes == "hi\n");
  }
  // A pipeline reports once its last process has exited, and not before.
  handle piped = (cmd("sleep", "0.2") | cmd("cat")).start();
  const auto pids = piped.pids();
  CHECK(piped.try_wait() == nullptr);
  for (const pid_t pid : pids) until_exited(pid);
  CHECK(piped.try_wait() != nullptr);
  // Reading through a reader_handle too.
  reader_handle reader = cmd("true").reader();
  until_exited(reader.pids().at(0));
  char byte = 0;
  CHECK(reader.read(&byte, 1) == 0);
  CHECK(reader.try_wait() != nullptr);
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

// The background thread steps only the runs an event concerns: each event
// must reach its own run, however many are alive.
TEST_CASE("300 started children ending in the reverse order of their start are each reaped with their own status") {
  test::leak_check check;
  constexpr int children = test::sanitized ? 100 : 300;
  std::vector<handle> handles;
  handles.reserve(children);
  for (int i = 0; i < children; ++i) {
    // The last started ends first; each exits with its own code.
    const std::string script =
        "sleep " + std::to_string(0.5 + 0.004 * (children - i)) + "; exit " + std::to_string(i % 100);
    handles.push_back(cmd("sh", "-c", script).unchecked().start());
  }
  int right = 0;
  for (int i = 0; i < children; ++i) {
    const output& result = handles[static_cast<std::size_t>(i)].wait();
    if (result.status.code() == i % 100) ++right;
  }
  CHECK(right == children);
}

TEST_CASE("a kill ends a run whose child is gone but whose capture a grandchild still holds") {
  test::leak_check check;
  // sh exits at once; the orphaned sleep keeps the pipe open, so only the
  // kill can end the run, and no process event will come to say so.
  auto running = cmd("sh", "-c", "sleep 37.5 & echo early").stdout_capture().unchecked().start();
  REQUIRE(running.pids().size() == 1);
  const pid_t shell = running.pids()[0];
  // Reaped: the run now waits for its pipe alone.
  REQUIRE(test::eventually([&] { return ::kill(shell, 0) != 0; }));
  std::this_thread::sleep_for(200ms);
  CHECK(running.try_wait() == nullptr);
  auto killed = std::async(std::launch::async, [&] { running.kill(); });
  // A guard against a hang, not a measure: the sleep alone would take 37 s.
  CHECK(killed.wait_for(20s) == std::future_status::ready);
  killed.wait();
  CHECK(running.wait().stdout_bytes == "early\n");
  cmd("pkill", "-f", "^sleep 37.5$").unchecked().run();
}

TEST_CASE("runs forwarding into one shared descriptor, and into a regular file, lose no byte") {
  test::leak_check check;
  test::temp_dir dir;
  constexpr std::size_t each = 300000;
  const auto file = dir / "tee.out";
  auto to_file = helper("write_bytes", each).stdout_tee().stdout_path(file.string()).start();

  int ends[2];
  REQUIRE(pipe2(ends, O_CLOEXEC) == 0);
  std::string forwarded;
  std::thread drain([&] {
    char buffer[65536];
    for (ssize_t n; (n = read(ends[0], buffer, sizeof buffer)) > 0;)
      forwarded.append(buffer, static_cast<std::size_t>(n));
  });
  {
    // One expression started twice forwards into the very same descriptor
    // (its own duplicate of the pipe), which one epoll set cannot hold twice.
    const auto shared = helper("write_bytes", each).stdout_tee().stdout_file(ends[1]);
    close(ends[1]);
    auto first = shared.start();
    auto second = shared.start();
    CHECK(first.wait().stdout_bytes.size() == each);
    CHECK(second.wait().stdout_bytes.size() == each);
  }
  // The expression and its runs held the last write end: the drain ends with them.
  drain.join();
  close(ends[0]);
  CHECK(forwarded.size() == 2 * each);

  const std::string written = to_file.wait().stdout_bytes;
  CHECK(written.size() == each);
  CHECK(test::slurp(file) == written);
}
