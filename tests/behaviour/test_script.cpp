// Scripts as whole processes: script_main's exit statuses, an interrupt that
// unwinds, children that die with their parent, and output order.
#include <sys/wait.h>

#include <thread>

#include "support.hpp"

using namespace ductile;
using namespace std::chrono_literals;

namespace {

int host_status(const std::vector<std::string>& args) {
  return *test::helper("script_host", args).stderr_null().unchecked().run().status.code();
}

// Every process below `pid`, from /proc/*/task/*/children.
std::vector<pid_t> descendants(pid_t pid) {
  std::vector<pid_t> found, queue{pid};
  while (!queue.empty()) {
    const pid_t at = queue.back();
    queue.pop_back();
    std::error_code ignored;
    for (const auto& task : test::fs::directory_iterator("/proc/" + std::to_string(at) + "/task", ignored)) {
      std::ifstream children(task.path() / "children");
      for (pid_t child; children >> child;) {
        found.push_back(child);
        queue.push_back(child);
      }
    }
  }
  return found;
}

}  // namespace

TEST_CASE("script_main returns the status a shell would") {
  test::leak_check check;
  test::temp_dir dir;
  test::write_file(dir / "plain", "not a program");
  CHECK(host_status({"exit", "3"}) == 3);
  CHECK(host_status({"killed"}) == 128 + SIGKILL);
  CHECK(host_status({"missing"}) == 127);
  CHECK(host_status({"noexec", (dir / "plain").string()}) == 126);
  CHECK(host_status({"other"}) == 1);
  CHECK(host_status({"value"}) == 5);
  // The message is one line naming the command, on stderr.
  const output o = test::helper("script_host", "exit", "4").stderr_capture().unchecked().run();
  CHECK(o.stderr_bytes == "command sh -c 'exit 4' failed: exit code 4\n");
}

TEST_CASE("an interrupt reaches every child, unwinds the script and restores the dispositions") {
  test::leak_check check;
  for (const char* how : {"run", "start"}) {
    CAPTURE(how);
    test::temp_dir dir;
    handle host = test::helper("script_host", "interrupt", dir.path.string(), how).stderr_capture().unchecked().start();
    REQUIRE(test::eventually([&] { return test::fs::exists(dir / "ready"); }));
    const pid_t host_pid = host.pids().at(0);
    std::vector<pid_t> below;
    // The sleepers, the pipeline's shell and its two children, and (run) the caller-thread sleep.
    REQUIRE(test::eventually([&] {
      below = descendants(host_pid);
      return below.size() >= (std::string(how) == "run" ? 6u : 5u);
    }));
    REQUIRE(kill(host_pid, SIGINT) == 0);
    const output& ended = host.wait();
    CHECK(ended.status.code() == 128 + SIGINT);
    CHECK(ended.stderr_bytes.find("interrupted by SIGINT") != std::string::npos);
    CHECK(test::fs::exists(dir / "unwound"));
    CHECK(test::fs::exists(dir / "restored"));
    for (const pid_t pid : below) CHECK(test::eventually([&] { return test::stopped_running(pid); }, 5s));
  }
}

TEST_CASE("without a guard an interrupt kills the script as before") {
  test::leak_check check;
  test::temp_dir dir;
  handle host = test::helper("script_host", "noguard", dir.path.string()).unchecked().start();
  REQUIRE(test::eventually([&] { return test::fs::exists(dir / "ready"); }));
  const pid_t host_pid = host.pids().at(0);
  std::vector<pid_t> below;
  REQUIRE(test::eventually([&] {
    below = descendants(host_pid);
    return below.size() >= 5u;
  }));
  REQUIRE(kill(host_pid, SIGINT) == 0);
  CHECK(host.wait().status.signal() == SIGINT);
  CHECK_FALSE(test::fs::exists(dir / "unwound"));
  // The children in their own groups heard nothing: they outlive the script.
  // All are looked at before any is killed: killing the inner sleep ends the
  // cat that reads it.
  for (const pid_t pid : below) CHECK_FALSE(test::stopped_running(pid));
  for (const pid_t pid : below) kill(pid, SIGKILL);
}

TEST_CASE("kill_on_parent_exit: a host killed with SIGKILL leaves no child behind") {
  test::leak_check check;
  for (const char* how : {"run", "start"}) {
    CAPTURE(how);
    test::temp_dir dir;
    handle host = test::helper("script_host", "orphan", dir.path.string(), how).unchecked().start();
    REQUIRE(test::eventually([&] { return !test::slurp(dir / "child").empty(); }));
    const pid_t child = std::stoi(test::slurp(dir / "child"));
    CHECK_FALSE(test::stopped_running(child));
    host.kill();
    CHECK(test::eventually([&] { return test::stopped_running(child); }, 5s));
  }
  CHECK_THROWS_AS(cmd("sleep", "1").kill_on_parent_exit().start_detached(), std::invalid_argument);
}

TEST_CASE("output the parent buffered comes before its children's on the same stdout") {
  test::leak_check check;
  CHECK(test::helper("script_host", "order").read() == "tagged 0\nchild 0\ntagged 1\nchild 1\ntagged 2\nchild 2");
}

TEST_CASE("interrupt_guard: one at a time, and catchable signals only") {
  {
    interrupt_guard guard;
    CHECK_THROWS_AS(interrupt_guard(), std::logic_error);
  }
  { interrupt_guard again({SIGUSR1}); }
  CHECK_THROWS_AS(interrupt_guard({SIGKILL}), std::invalid_argument);
}

TEST_CASE("round 3 defect 5: a signal listed twice is refused and the disposition stays the host's") {
  struct sigaction before {};
  REQUIRE(::sigaction(SIGINT, nullptr, &before) == 0);
  try {
    interrupt_guard twice({SIGINT, SIGTERM, SIGINT});
    FAIL("a guard listing SIGINT twice was made");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()) == "interrupt_guard: SIGINT is listed twice");
  }
  struct sigaction after {};
  REQUIRE(::sigaction(SIGINT, nullptr, &after) == 0);
  CHECK((after.sa_handler == before.sa_handler));
  { interrupt_guard once({SIGINT}); }  // and one can still be made
  REQUIRE(::sigaction(SIGINT, nullptr, &after) == 0);
  CHECK((after.sa_handler == before.sa_handler));
}

TEST_CASE("round 3 defect 4: a signal between two runs interrupts the next run, on any thread, once") {
  interrupt_guard guard;  // first: its event lives on with the process
  test::leak_check check;
  for (const bool other_thread : {false, true}) {
    CAPTURE(other_thread);
    // The background thread exists and watches the guard's descriptor.
    cmd("true").start().wait();
    CHECK_FALSE(interrupt_guard::interrupted());
    REQUIRE(::raise(SIGINT) == 0);
    CHECK(interrupt_guard::interrupted());
    // Long enough for the background thread to have woken and looked.
    std::this_thread::sleep_for(200ms);
    CHECK(interrupt_guard::interrupted());
    const auto next_run = [] {
      try {
        cmd("sleep", "30").timeout(10s).run();
        return std::string("ran to the end");
      } catch (const interrupted_error& e) {
        return std::string("interrupted by ") + std::to_string(e.signal());
      } catch (const std::exception& e) {
        return std::string(e.what());
      }
    };
    std::string seen;
    if (other_thread)
      std::thread([&] { seen = next_run(); }).join();
    else
      seen = next_run();
    CHECK(seen == "interrupted by " + std::to_string(SIGINT));
    CHECK_FALSE(interrupt_guard::interrupted());
    // Delivered once: the run after it runs normally.
    CHECK(cmd("true").run().status.success());
  }
}

TEST_CASE("an interrupt ends a pool's running and queued jobs, and the pool goes on") {
  interrupt_guard guard;  // first: its event lives on with the process
  test::leak_check check;
  pool jobs(1);
  handle running = jobs.submit(cmd("sleep", "30"));
  handle queued = jobs.submit(cmd("sleep", "30"));
  REQUIRE(test::eventually([&] { return !running.pids().empty(); }));
  // The pool's completion callback takes the pool's lock and may start the next
  // job; were it called under the list of runs, this would deadlock or race.
  REQUIRE(::kill(::getpid(), SIGINT) == 0);
  CHECK_THROWS_AS(running.wait(), interrupted_error);
  CHECK_THROWS_AS(queued.wait(), interrupted_error);
  jobs.wait_all();
  // A job submitted after the interrupt runs normally.
  CHECK(jobs.submit(cmd("true")).wait().status.success());
}
