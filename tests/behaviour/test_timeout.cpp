#include <poll.h>

#include "support.hpp"

using namespace ductile;
using test::helper;
using namespace std::chrono_literals;

namespace {
template <class F>
std::chrono::steady_clock::duration time_of(F&& f) {
  const auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::steady_clock::now() - start;
}
}  // namespace

TEST_CASE("a timeout ends a long command with timeout_error carrying what was captured") {
  test::leak_check check;
  const auto took = time_of([] {
    try {
      sh("echo before; exec sleep 100").stdout_capture().timeout(200ms).run();
      FAIL("expected timeout_error");
    } catch (const timeout_error& error) {
      CHECK(error.output().stdout_bytes == "before\n");
      CHECK(error.output().status.signal() == SIGTERM);
      CHECK(std::string(error.what()).find("timed out") != std::string::npos);
    }
  });
  CHECK(took < 30s);  // generous: the point is that it does not wait 100 s
}

TEST_CASE("a timeout is a status_error, and an outer unchecked makes it a plain status") {
  test::leak_check check;
  CHECK_THROWS_AS(cmd("sleep", "100").timeout(50ms).run(), status_error);
  const output out = cmd("sleep", "100").timeout(50ms).unchecked().run();
  CHECK(out.status.signal() == SIGTERM);
}

TEST_CASE("a command that ignores SIGTERM is killed after the grace period") {
  test::leak_check check;
  try {
    sh("trap '' TERM; exec sleep 100").timeout(50ms, 100ms).run();
    FAIL("expected timeout_error");
  } catch (const timeout_error& error) {
    CHECK(error.output().status.signal() == SIGKILL);
  }
}

TEST_CASE("a command that finishes in time is not affected") {
  test::leak_check check;
  CHECK(cmd("echo", "quick").timeout(30s).read() == "quick");
}

TEST_CASE("a timeout covers a whole pipe") {
  test::leak_check check;
  handle h = (cmd("sleep", "100") | cmd("sleep", "100")).timeout(100ms).start();
  CHECK_THROWS_AS(h.wait(), timeout_error);
  CHECK_THROWS_AS(h.try_wait(), timeout_error);
}

TEST_CASE("a timeout of a then chain stops it and the rest never starts") {
  test::leak_check check;
  test::temp_dir tmp;
  CHECK_THROWS_AS(cmd("sleep", "100").then(cmd("touch", tmp / "after")).timeout(100ms).run(), timeout_error);
  CHECK(!std::filesystem::exists(tmp / "after"));
}

TEST_CASE("timeouts compose: (a | b).timeout(t).then(c)") {
  test::leak_check check;
  CHECK(((cmd("true") | cmd("true")).timeout(10s).then(cmd("echo", "c"))).read() == "c");
  CHECK_THROWS_AS(((cmd("sleep", "100") | cmd("cat")).timeout(50ms).then(cmd("echo", "c"))).run(), timeout_error);
  const auto out = (cmd("sleep", "100").timeout(50ms).unchecked().then(cmd("echo", "went on"))).stdout_capture().run();
  CHECK(out.stdout_bytes == "went on\n");
}

TEST_CASE("only the subtree under the timeout is stopped") {
  test::leak_check check;
  const output out = (cmd("sleep", "100").timeout(50ms).unchecked() | cmd("echo", "right")).stdout_capture().run();
  CHECK(out.stdout_bytes == "right\n");
  REQUIRE(out.processes.size() == 2);
  CHECK(out.processes[1].status.success());
}

TEST_CASE("wait_for does not kill") {
  test::leak_check check;
  handle h = cmd("sleep", "0.3").start();
  CHECK(h.wait_for(10ms) == nullptr);
  CHECK(h.wait().status.success());
}

TEST_CASE("new_process_group lets kill reach a grandchild that stays in it") {
  test::leak_check check;
  test::temp_dir tmp;
  const auto pidfile = tmp / "grandchild";
  handle h = sh("sleep 100 & echo $! > '" + pidfile.string() + "'; wait").new_process_group().start();
  REQUIRE(test::eventually([&] { return test::slurp(pidfile).size() > 1; }));
  const pid_t grandchild = std::stoi(test::slurp(pidfile));
  REQUIRE(::kill(grandchild, 0) == 0);
  h.kill();
  CHECK_THROWS_AS(h.wait(), status_error);
  // The grandchild is not our child: init reaps it once it dies.
  CHECK(test::eventually([&] {
    std::ifstream stat("/proc/" + std::to_string(grandchild) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return true;
    return line.find(") Z ") != std::string::npos;
  }));
}

TEST_CASE("without a process group, a grandchild holding no pipe survives a kill") {
  test::leak_check check;
  test::temp_dir tmp;
  const auto pidfile = tmp / "grandchild";
  handle h = sh("sleep 100 >/dev/null 2>&1 & echo $! > '" + pidfile.string() + "'; wait").start();
  REQUIRE(test::eventually([&] { return test::slurp(pidfile).size() > 1; }));
  const pid_t grandchild = std::stoi(test::slurp(pidfile));
  h.kill();
  CHECK_THROWS_AS(h.wait(), status_error);
  CHECK(::kill(grandchild, 0) == 0);
  ::kill(grandchild, SIGKILL);
}

TEST_CASE("a timeout with a process group ends the grandchildren too") {
  test::leak_check check;
  test::temp_dir tmp;
  const auto pidfile = tmp / "grandchild";
  CHECK_THROWS_AS(sh("sleep 100 & echo $! > '" + pidfile.string() + "'; wait").new_process_group().timeout(200ms).run(),
                  timeout_error);
  const pid_t grandchild = std::stoi(test::slurp(pidfile));
  CHECK(test::eventually([&] {
    std::ifstream stat("/proc/" + std::to_string(grandchild) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return true;
    return line.find(") Z ") != std::string::npos;
  }));
}

TEST_CASE("every process of a process-group subtree shares one group, across then") {
  test::leak_check check;
  const std::string groups =
      (sh("ps -o pgid= -p $$").then(sh("ps -o pgid= -p $$")) | cmd("cat")).new_process_group().read();
  std::istringstream in(groups);
  std::string first, second;
  in >> first >> second;
  CHECK(!first.empty());
  CHECK(first != std::to_string(getpgrp()));
}

TEST_CASE("completion_fd becomes readable exactly when the expression has finished") {
  test::leak_check check;
  test::temp_dir tmp;
  const auto gate = tmp / "gate";
  handle h = sh("while [ ! -e '" + gate.string() + "' ]; do sleep 0.01; done").start();
  pollfd pfd{h.completion_fd(), POLLIN, 0};
  CHECK(::poll(&pfd, 1, 100) == 0);
  test::write_file(gate, "");
  CHECK(::poll(&pfd, 1, 10000) == 1);
  CHECK(h.try_wait() != nullptr);
  CHECK(::poll(&pfd, 1, 0) == 1);  // stays readable
  handle done = cmd("true").start();
  done.wait();
  pollfd late{done.completion_fd(), POLLIN, 0};
  CHECK(::poll(&late, 1, 0) == 1);
}

TEST_CASE("rusage is recorded from the kernel at reap time") {
  test::leak_check check;
  const output cpu = helper("burn_cpu", 50).run();
  REQUIRE(cpu.processes.size() == 1);
  CHECK(cpu.processes[0].user_time + cpu.processes[0].system_time >= 20ms);
  const output memory = helper("allocate", 64).run();
  CHECK(memory.processes[0].max_rss_kib > 64u * 1024u);
}

TEST_CASE("tee shows the first line before the command ends, and keeps it") {
  test::leak_check check;
  test::temp_dir tmp;
  const auto gate = tmp / "gate";
  const auto shown = tmp / "shown";
  handle h = sh("echo first; while [ ! -e '" + gate.string() + "' ]; do sleep 0.01; done; echo second")
                 .stdout_tee()
                 .stdout_path(shown)
                 .start();
  CHECK(test::eventually([&] { return test::slurp(shown) == "first\n"; }));
  CHECK(h.try_wait() == nullptr);
  test::write_file(gate, "");
  CHECK(h.wait().stdout_bytes == "first\nsecond\n");
  CHECK(test::slurp(shown) == "first\nsecond\n");
}

TEST_CASE("portable spellings: completion_handle() is completion_fd() on POSIX, pids() are process_ids") {
  static_assert(std::is_same_v<native_handle_type, int>);
  static_assert(std::is_same_v<process_id, pid_t>);
  static_assert(std::is_same_v<decltype(std::declval<handle&>().pids()), std::vector<process_id>>);
  static_assert(std::is_same_v<decltype(std::declval<handle&>().completion_handle()), native_handle_type>);
  test::leak_check check;
  test::temp_dir tmp;
  const auto gate = tmp / "gate";
  handle h = sh("while [ ! -e '" + gate.string() + "' ]; do sleep 0.01; done").start();
  CHECK(h.completion_handle() == h.completion_fd());
  pollfd pfd{h.completion_handle(), POLLIN, 0};
  CHECK(::poll(&pfd, 1, 50) == 0);
  const std::vector<process_id> pids = h.pids();
  REQUIRE(pids.size() == 1);
  CHECK(::kill(pids[0], 0) == 0);
  test::write_file(gate, "");
  const output o = h.wait();
  CHECK(::poll(&pfd, 1, 0) == 1);
  CHECK(o.processes.at(0).pid == pids[0]);
  reader_handle r = cmd("echo", "hi").reader();
  CHECK(r.completion_handle() == r.completion_fd());
  r.wait();
}
