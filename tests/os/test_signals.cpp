// Host programs with their own ideas about signals: the library must work
// with each of them and change nothing process-wide.
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "support.hpp"

using namespace ductile;
using test::helper;

namespace {

constexpr int last_signal = 64;

struct dispositions {
  struct sigaction actions[last_signal + 1];
  dispositions() {
    for (int s = 1; s <= last_signal; ++s) {
      std::memset(&actions[s], 0, sizeof actions[s]);
      sigaction(s, nullptr, &actions[s]);
    }
  }
  bool operator==(const dispositions& other) const {
    for (int s = 1; s <= last_signal; ++s) {
      if (actions[s].sa_handler != other.actions[s].sa_handler) return false;
      if (actions[s].sa_flags != other.actions[s].sa_flags) return false;
    }
    return true;
  }
};

// Everything the library can do, once each.
void exercise_everything() {
  CHECK((cmd("yes") | cmd("head", "-n1")).read() == "y");
  CHECK(cmd("true").stdin_bytes(std::string(1 << 20, 'x')).run().status.success());
  CHECK(cmd("sh", "-c", "exit 3").unchecked().run().status.code() == 3);
  auto running = cmd("sleep", "30").unchecked().start();
  running.kill();
  CHECK(running.wait_for(std::chrono::seconds(10)) != nullptr);
  CHECK_THROWS_AS(cmd("sleep", "30").timeout(std::chrono::milliseconds(50)).run(), timeout_error);
  int lines = 0;
  for (const auto& line : cmd("printf", "a\\nb\\n").lines()) lines += line.empty() ? 0 : 1;
  CHECK(lines == 2);
  pool workers(2);
  for (int i = 0; i < 4; ++i) (void)workers.submit(cmd("true"));
  workers.wait_all();
}

std::atomic<int> sigchld_seen{0};
void count_sigchld(int) { ++sigchld_seen; }

}  // namespace

TEST_CASE("no signal disposition of the process changes, whatever the library does") {
  test::leak_check leaks;
  const dispositions before;
  exercise_everything();
  CHECK(dispositions() == before);
}

TEST_CASE("a host that ignores SIGPIPE and SIGINT works, and its children get the defaults back") {
  test::leak_check leaks;
  std::string child;
  output out;
  {
    const test::ignoring_pipe_and_interrupt host;
    exercise_everything();
    child = helper("show_signals").read();
    // `yes` dies of SIGPIPE only if its SIGPIPE is back to the default.
    out = (cmd("yes") | cmd("head", "-n1")).stdout_null().unchecked().run();
  }
  CHECK(child == "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000");
  REQUIRE(out.processes.size() == 2);
  CHECK(out.processes[0].status.signal() == SIGPIPE);
}

TEST_CASE("a host with its own SIGCHLD handler keeps it, and every status is still right") {
  test::leak_check leaks;
  struct sigaction handler {
  }, previous{};
  handler.sa_handler = count_sigchld;
  sigemptyset(&handler.sa_mask);
  handler.sa_flags = SA_RESTART;
  sigaction(SIGCHLD, &handler, &previous);
  sigchld_seen = 0;
  exercise_everything();
  for (int code = 0; code < 20; ++code)
    CHECK(cmd("sh", "-c", "exit " + std::to_string(code)).unchecked().run().status.code() == code);
  struct sigaction during {};
  sigaction(SIGCHLD, nullptr, &during);
  sigaction(SIGCHLD, &previous, nullptr);
  const bool handler_kept = during.sa_handler == count_sigchld;
  CHECK(handler_kept);
  CHECK(sigchld_seen > 0);  // the host's handler saw our children exit, and nothing broke
}

TEST_CASE("a host thread that blocks every signal can run, wait, time out and kill") {
  test::leak_check leaks;
  std::string child_mask;
  std::thread worker([&] {
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, nullptr);
    exercise_everything();
    child_mask = helper("show_signals").read();
  });
  worker.join();
  CHECK(child_mask == "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000");
}

TEST_CASE("the exits of a pool's jobs leave no SIGCHLD for the host's threads when nobody handles it") {
  if (DUCTILE_POSIX_BACKEND) {
    MESSAGE("skipped: posix_spawn blocks every signal while it waits for the child's exec");
    return;
  }
  test::leak_check leaks;
  std::string pending_after;
  std::thread host([&] {
    // A host thread that blocks SIGCHLD keeps any the kernel queues for the
    // process: with every thread blocking it, nothing would discard them.
    sigset_t child;
    sigemptyset(&child);
    sigaddset(&child, SIGCHLD);
    pthread_sigmask(SIG_BLOCK, &child, nullptr);
    const timespec no_wait{0, 0};
    while (sigtimedwait(&child, nullptr, &no_wait) == SIGCHLD) {
    }
    {
      pool jobs(4);
      std::vector<handle> handles;
      for (int i = 0; i < 100; ++i) handles.push_back(jobs.submit(cmd("true")));
      jobs.wait_all();
      for (auto& h : handles) CHECK(h.wait().status.success());
    }
    sigset_t pending;
    sigpending(&pending);
    pending_after = sigismember(&pending, SIGCHLD) ? "SIGCHLD pending" : "none";
  });
  host.join();
  CHECK(pending_after == "none");
}
