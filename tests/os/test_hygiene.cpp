// Descriptors, signals, threads and zombies: what a process library must never leak.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <map>
#include <random>

#include "support.hpp"

using namespace ductile;
using test::helper;

TEST_CASE("no descriptor other than 0, 1 and 2 reaches a child") {
  test::leak_check check;
  const int inheritable = ::open("/dev/null", O_RDONLY);  // deliberately without O_CLOEXEC
  REQUIRE(inheritable > 2);
  CHECK(helper("list_fds").read() == "0\n1\n2");
  CHECK((helper("list_fds") | cmd("cat")).read() == "0\n1\n2");
  CHECK(helper("list_fds").stdin_bytes("x").stderr_capture().read() == "0\n1\n2");
  CHECK(helper("list_fds").then(helper("list_fds")).read() == "0\n1\n2\n0\n1\n2");
  ::close(inheritable);
}

// A child borrows the parent's descriptor table until it has made its own: the
// duplications onto 0, 1 and 2 and the close-on-exec marks it then makes must
// land in its copy only.
TEST_CASE("what a child does to its descriptors never reaches the parent's table") {
  test::leak_check check;
  const auto identity = [](int fd) {
    struct stat about {};
    REQUIRE(::fstat(fd, &about) == 0);
    return std::make_pair(about.st_dev, about.st_ino);
  };
  const int inheritable = ::open("/dev/null", O_RDONLY);  // deliberately without O_CLOEXEC
  REQUIRE(inheritable > 2);
  const auto stdio_before = std::vector{identity(0), identity(1), identity(2)};
  const std::set<int> open_before = test::open_fds();
  for (int i = 0; i < 20; ++i) {
    CHECK(cmd("cat").stdin_bytes("in").stdout_capture().stderr_to_stdout().read() == "in");
    CHECK((helper("list_fds") | cmd("cat")).stderr_null().read() == "0\n1\n2");
    CHECK(cmd("sh", "-c", "cat <&3").pass_fd(3, inheritable).stdin_null().read().empty());
  }
  CHECK(std::vector{identity(0), identity(1), identity(2)} == stdio_before);
  CHECK(::fcntl(inheritable, F_GETFD) == 0);  // the child's close-on-exec marks stayed in the child
  CHECK(test::open_fds() == open_before);
  ::close(inheritable);
}

// Kept at low numbers, the descriptors live runs hold would be in every later
// child's copy of the table (lib/os/linux/child.cpp).
TEST_CASE("what live runs hold is kept clear of the numbers new descriptors take") {
  test::leak_check check;
  rlimit limit{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &limit) == 0);
  if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max < 2048) {
    MESSAGE("skipped: the hard descriptor limit (", limit.rlim_max, ") leaves no room above 1024");
    return;
  }
  const rlimit raised{2048, limit.rlim_max};
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &raised) == 0);
  const std::set<int> inherited = test::open_fds();
  std::vector<int> crowd;  // fills the low numbers, as a busy host does
  while (crowd.size() < 70) crowd.push_back(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  std::vector<handle> sleepers;
  for (int i = 0; i < 5; ++i) sleepers.push_back(cmd("sleep", "100").stdout_capture().unchecked().start());
  std::map<std::string, int> low;  // by kind: what sits between the crowd and 1024
  std::map<std::string, int> clear;
  for (const int fd : test::open_fds()) {
    if (inherited.count(fd) != 0) continue;
    char target[64] = {};
    const std::string link = "/proc/self/fd/" + std::to_string(fd);
    if (::readlink(link.c_str(), target, sizeof target - 1) <= 0) continue;
    const std::string kind = std::string(target).substr(0, 5) == "pipe:" ? "pipe" : target;
    if (kind != "pipe" && kind != "anon_inode:[pidfd]") continue;
    if (fd >= 1024)
      ++clear[kind];
    else if (fd >= 64)
      ++low[kind];
  }
  // The next child's pipes take the free low numbers meanwhile.
  CHECK((cmd("echo", "through") | cmd("cat")).read() == "through");
  for (auto& sleeper : sleepers) sleeper.kill();
  for (auto& sleeper : sleepers) sleeper.wait();
  for (const int fd : crowd) ::close(fd);
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &limit) == 0);
  std::string held_low;
  for (const auto& [kind, count] : low) held_low += kind + " x" + std::to_string(count) + " ";
  CHECK_MESSAGE(low.empty(), held_low);
  CHECK(clear["pipe"] >= 5);  // the parent's end of each capture
  if (clear["anon_inode:[pidfd]"] == 0)
    MESSAGE("children are held by pid here, not by pidfd");
  else
    CHECK(clear["anon_inode:[pidfd]"] >= 5);
}

TEST_CASE("children start with an empty signal mask and default dispositions") {
  test::leak_check check;
  const test::ignoring_pipe_and_interrupt host;
  sigset_t block, previous;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR1);
  sigaddset(&block, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &block, &previous);
  const std::string status = helper("show_signals").read();
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  CHECK(status == "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000");
}

TEST_CASE("the library changes no process-wide signal disposition") {
  test::leak_check check;
  struct sigaction before_pipe {
  }, before_chld{}, after_pipe{}, after_chld{};
  sigaction(SIGPIPE, nullptr, &before_pipe);
  sigaction(SIGCHLD, nullptr, &before_chld);
  (cmd("yes") | cmd("head", "-n1")).read();
  cmd("true").stdin_bytes(std::string(1 << 20, 'x')).run();
  sigaction(SIGPIPE, nullptr, &after_pipe);
  sigaction(SIGCHLD, nullptr, &after_chld);
  const bool pipe_unchanged = before_pipe.sa_handler == after_pipe.sa_handler;
  const bool chld_unchanged = before_chld.sa_handler == after_chld.sa_handler;
  CHECK(pipe_unchanged);
  CHECK(chld_unchanged);
}

TEST_CASE("a child that stops reading never kills the parent with SIGPIPE") {
  test::leak_check check;
  for (int i = 0; i < 20; ++i) {
    CHECK(sh("head -c 10 >/dev/null").stdin_bytes(std::string(1 << 20, 'x')).run().status.success());
  }
  handle h = cmd("true").stdin_bytes(std::string(4 << 20, 'x')).start();
  CHECK(h.wait().status.success());
}

TEST_CASE("run and read create no thread") {
  test::leak_check check;
  const int before = test::thread_count();
  const output out = (helper("write_bytes", 1 << 20, "both") | cmd("cat")).stdout_capture().stderr_capture().run();
  CHECK(out.stdout_bytes.size() == (1u << 20));
  CHECK(test::thread_count() == before);
}

TEST_CASE("no zombie and no descriptor growth after 1000 mixed runs, kills and failures") {
  test::leak_check check;
  std::mt19937 random(12345);
  int failures = 0;
  for (int i = 0; i < 1000; ++i) {
    switch (random() % 6) {
      case 0: cmd("true").run(); break;
      case 1: CHECK((cmd("echo", i) | cmd("cat")).read() == std::to_string(i)); break;
      case 2: try { sh("exit 3").run();
        } catch (const status_error&) {
          ++failures;
        }
        break;
      case 3: try { (cmd("true") | cmd("no-such-program-ductile")).run();
        } catch (const spawn_error&) {
          ++failures;
        }
        break;
      case 4: {
        handle h = (cmd("sleep", "100") | cmd("cat")).unchecked().start();
        h.kill();
        CHECK(h.wait().status.signal() == SIGKILL);
        break;
      }
      case 5: {
        handle dropped = cmd("sleep", "100").then(cmd("true")).start();
        break;
      }
    }
  }
  CHECK(failures > 0);
  CHECK(test::children().empty());
}
