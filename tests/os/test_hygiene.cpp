// Descriptors, signals, threads and zombies: what a process library must never leak.
#include <fcntl.h>

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
