// What build tools need from a pool: stopping like make, progress, and the
// make jobserver both ways, tested with the real GNU make.
#include <fcntl.h>
#include <sys/stat.h>

#include <atomic>
#include <mutex>
#include <sstream>

#include "support.hpp"

using namespace ductile;
using namespace std::chrono_literals;

namespace {

// The largest count any count_running instance saw.
int peak_in(const test::fs::path& dir) {
  std::istringstream lines(test::slurp(dir / "peaks"));
  int peak = 0, count = 0, seen = 0;
  for (int value; lines >> value; ++seen) peak = std::max(peak, value);
  count = seen;
  return count == 0 ? -1 : peak;
}

std::size_t lines_in(const test::fs::path& file) {
  std::istringstream lines(test::slurp(file));
  std::size_t count = 0;
  for (std::string line; std::getline(lines, line);) ++count;
  return count;
}

bool make_installed() { return which("make").has_value(); }

}  // namespace

TEST_CASE("failure_policy::stop sends SIGTERM, and a job cleans up before it ends") {
  test::leak_check check;
  test::temp_dir tmp;
  const auto scratch = tmp / "cc-scratch";
  pool p(2, failure_policy::stop, 10s);
  // The job removes its scratch file on SIGTERM, as a compiler driver does.
  handle running = p.submit(cmd(
      "sh", "-c", "trap 'rm -f \"$0\"; exit 143' TERM; touch \"$0\"; while :; do sleep 0.05; done", scratch.string()));
  REQUIRE(test::eventually([&] { return test::fs::exists(scratch); }));
  handle failing = p.submit(sh("exit 1"));
  handle queued = p.submit(cmd("touch", tmp / "queued-ran"));
  p.wait_all();
  CHECK(p.stopped());
  CHECK_FALSE(test::fs::exists(scratch));
  CHECK_FALSE(test::fs::exists(tmp / "queued-ran"));
  CHECK_THROWS_AS(running.wait(), cancelled_error);
  CHECK_THROWS_AS(queued.wait(), cancelled_error);
  // The job that failed on its own is not one the pool cancelled.
  try {
    failing.wait();
    FAIL("expected status_error");
  } catch (const cancelled_error&) {
    FAIL("the failing job was not cancelled");
  } catch (const status_error& error) {
    CHECK(error.output().status.code() == 1);
  }
}

TEST_CASE("failure_policy::stop sends SIGKILL after the grace period to a job that ignores SIGTERM") {
  test::leak_check check;
  pool p(2, failure_policy::stop, 200ms);
  handle stubborn = p.submit(sh("trap '' TERM; exec sleep 100"));
  REQUIRE(test::eventually([&] { return !stubborn.pids().empty(); }));
  handle failing = p.submit(sh("sleep 0.2; exit 1"));
  p.wait_all();
  try {
    stubborn.wait();
    FAIL("expected cancelled_error");
  } catch (const cancelled_error& error) {
    CHECK(error.output().status.signal() == SIGKILL);
    CHECK(std::string(error.what()).find("stopped by its pool") != std::string::npos);
  }
  CHECK_THROWS_AS(failing.wait(), status_error);
}

TEST_CASE("failure_policy::finish_running lets running jobs finish and starts nothing new, like make") {
  test::leak_check check;
  test::temp_dir tmp;
  pool p(2, failure_policy::finish_running);
  handle slow = p.submit(cmd("sh", "-c", "sleep 0.5; touch \"$0\"", (tmp / "slow-done").string()));
  handle failing = p.submit(sh("exit 2"));
  handle queued = p.submit(cmd("touch", tmp / "queued-ran"));
  p.wait_all();
  CHECK(p.stopped());
  CHECK(slow.wait().status.success());
  CHECK(test::fs::exists(tmp / "slow-done"));
  CHECK_THROWS_AS(queued.wait(), cancelled_error);
  CHECK_FALSE(test::fs::exists(tmp / "queued-ran"));
  CHECK_THROWS_AS(p.submit(cmd("true")).wait(), cancelled_error);
}

TEST_CASE("a job that dies of a signal on its own is not cancelled_error") {
  test::leak_check check;
  pool p(2);
  handle self_killed = p.submit(sh("kill -9 $$"));
  p.wait_all();
  try {
    self_killed.wait();
    FAIL("expected status_error");
  } catch (const cancelled_error&) {
    FAIL("a job killed by someone else is not the pool's doing");
  } catch (const status_error& error) {
    CHECK(error.output().status.signal() == SIGKILL);
  }
}

TEST_CASE("on_progress reports every queue, start and finish, one call at a time") {
  test::leak_check check;
  std::mutex seen_mutex;
  std::vector<progress> seen;
  std::atomic<int> inside{0};
  bool overlapped = false;
  {
    pool p(2);
    p.on_progress([&](const progress& now) {
      if (inside.fetch_add(1) != 0) overlapped = true;
      {
        std::lock_guard<std::mutex> lock(seen_mutex);
        seen.push_back(now);
      }
      std::this_thread::sleep_for(1ms);
      inside.fetch_sub(1);
    });
    std::vector<handle> handles;
    for (int i = 0; i < 6; ++i) handles.push_back(p.submit(sh(i == 3 ? "exit 1" : "sleep 0.02")));
    p.wait_all();
    std::lock_guard<std::mutex> lock(seen_mutex);
    REQUIRE_FALSE(seen.empty());
    const progress last = seen.back();
    CHECK(last.queued == 0);
    CHECK(last.running == 0);
    CHECK(last.done == 6);
    CHECK(last.failed == 1);
    CHECK(last.total == 6);
  }
  CHECK_FALSE(overlapped);
  std::size_t most_running = 0;
  for (const progress& now : seen) {
    CHECK(now.queued + now.running + now.done == now.total);
    CHECK(now.failed <= now.done);
    most_running = std::max(most_running, now.running);
  }
  CHECK(most_running <= 2);
  CHECK(most_running >= 1);
}

TEST_CASE("an on_progress callback that throws is rethrown by wait_all") {
  test::leak_check check;
  pool p(1);
  p.on_progress([](const progress& now) {
    if (now.done == 1) throw std::runtime_error("progress display failed");
  });
  handle job = p.submit(cmd("true"));
  CHECK_THROWS_WITH_AS(p.wait_all(), "progress display failed", std::runtime_error);
  CHECK(job.wait().status.success());
  p.wait_all();  // thrown once
}

TEST_CASE("from_jobserver without a jobserver is a plain pool of the fallback size") {
  test::leak_check check;
  test::temp_dir tmp;
  const output o = test::helper("jobserver_tool", "run", test::helper_path("count_running"), tmp.path, "6", "2")
                       .env_remove("MAKEFLAGS")
                       .stderr_capture()
                       .run();
  CHECK(o.stderr_bytes.empty());
  CHECK(peak_in(tmp.path) == 2);
}

TEST_CASE("make -j3 running ductile tools in '+' rules never runs more than 3 jobs in all") {
  if (!make_installed()) {
    MESSAGE("skipped: GNU make is not installed");
    return;
  }
  test::leak_check check;
  test::temp_dir tmp;
  const std::string tool = test::helper_path("jobserver_tool").string();
  const std::string counter = test::helper_path("count_running").string();
  std::string makefile = "all: a b c\n";
  for (const char* rule : {"a", "b", "c"})
    makefile += std::string(rule) + ":\n\t+" + tool + " run " + counter + " " + tmp.path.string() + " 5 4\n";
  makefile += "tokens: all\n\t+@" + tool + " tokens\n";
  test::write_file(tmp / "Makefile", makefile);
  const output o =
      cmd("make", "-s", "-j3", "tokens").dir(tmp.path).env_remove("MAKEFLAGS").stdout_capture().stderr_capture().run();
  CHECK(o.stderr_bytes.empty());
  CHECK(lines_in(tmp / "peaks") == 15);
  CHECK(peak_in(tmp.path) <= 3);
  CHECK(peak_in(tmp.path) >= 2);
  // Every token is back: make -j3 holds 2 in its pipe, and the last rule runs on make's own.
  CHECK(o.stdout_bytes == "2\n");
}

TEST_CASE("a rule without '+' gets no jobserver: a warning, and the fallback size") {
  if (!make_installed()) {
    MESSAGE("skipped: GNU make is not installed");
    return;
  }
  test::leak_check check;
  test::temp_dir tmp;
  test::write_file(tmp / "Makefile", "all:\n\t" + test::helper_path("jobserver_tool").string() + " run " +
                                         test::helper_path("count_running").string() + " " + tmp.path.string() +
                                         " 4 1\n");
  const output o =
      cmd("make", "-s", "-j3").dir(tmp.path).env_remove("MAKEFLAGS").stdout_capture().stderr_capture().run();
  CHECK(o.stderr_bytes.find("ductile: the jobserver in MAKEFLAGS (--jobserver-auth=") != std::string::npos);
  CHECK(o.stderr_bytes.find("cannot be used") != std::string::npos);
  CHECK(o.stderr_bytes.find("running at most 1 jobs at once") != std::string::npos);
  CHECK(peak_in(tmp.path) == 1);
}

TEST_CASE("the fifo style of make 4.4: tokens taken from the fifo and all given back") {
  test::leak_check check;
  test::temp_dir tmp;
  const auto fifo = tmp / "fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  const int holder = ::open(fifo.c_str(), O_RDWR | O_CLOEXEC | O_NONBLOCK);
  REQUIRE(holder >= 0);
  REQUIRE(::write(holder, "++", 2) == 2);  // like make -j3: two tokens besides its own
  const output o = test::helper("jobserver_tool", "run", test::helper_path("count_running"), tmp.path, "8", "1")
                       .env("MAKEFLAGS", " -j3 --jobserver-auth=fifo:" + fifo.string())
                       .stderr_capture()
                       .run();
  CHECK(o.stderr_bytes.empty());
  CHECK(peak_in(tmp.path) == 3);
  char tokens[8];
  CHECK(::read(holder, tokens, sizeof tokens) == 2);
  ::close(holder);
}

TEST_CASE("serve_jobserver: two make -j children of a pool of 2 never run more than 2 jobs in all") {
  if (!make_installed()) {
    MESSAGE("skipped: GNU make is not installed");
    return;
  }
  test::leak_check check;
  test::temp_dir tmp;
  const std::string counter = test::helper_path("count_running").string();
  std::string makefile = "all: a b c d\n";
  for (const char* rule : {"a", "b", "c", "d"})
    makefile += std::string(rule) + ":\n\t@" + counter + " " + tmp.path.string() + " 100000\n";
  test::write_file(tmp / "Makefile", makefile);
  pool p(2);
  p.serve_jobserver();
  // Sub-makes, as $(MAKE) starts them: -j comes from MAKEFLAGS (a -j on the
  // command line would make them leave the jobserver, as make warns).
  handle first = p.submit(cmd("make", "-s").dir(tmp.path).stderr_capture());
  handle second = p.submit(cmd("make", "-s").dir(tmp.path).stderr_capture());
  p.wait_all();
  const output& one = first.wait();
  CHECK(one.stderr_bytes == "");  // no "jobserver unavailable" warning
  CHECK(second.wait().stderr_bytes.empty());
  CHECK(lines_in(tmp / "peaks") == 8);
  CHECK(peak_in(tmp.path) <= 2);
  CHECK(peak_in(tmp.path) == 2);
  // Every token is back: one below the pool's size, as it was made.
  CHECK(p.submit(test::helper("jobserver_tool", "tokens").stdout_capture()).wait().stdout_bytes == "1\n");
  // A job's own MAKEFLAGS wins over the pool's.
  CHECK(p.submit(sh("echo \"$MAKEFLAGS\"").env("MAKEFLAGS", "-k").stdout_capture()).wait().stdout_bytes == "-k\n");
}

TEST_CASE("round 3 defect 10: from_jobserver takes a failure policy: stop at the first failure under a jobserver") {
  test::leak_check check;
  test::temp_dir tmp;
  const auto fifo = tmp / "fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  const int holder = ::open(fifo.c_str(), O_RDWR | O_CLOEXEC | O_NONBLOCK);
  REQUIRE(holder >= 0);
  REQUIRE(::write(holder, "+++", 3) == 3);  // like make -j4
  const output o = test::helper("jobserver_tool", "stop")
                       .env("MAKEFLAGS", " -j4 --jobserver-auth=fifo:" + fifo.string())
                       .stdout_capture()
                       .stderr_capture()
                       .run();
  CHECK(o.stderr_bytes.empty());
  CHECK(o.stdout_bytes == "cancelled\nexit code 3\ncancelled\ncancelled\n");
  // Every token came back.
  char tokens[8];
  CHECK(::read(holder, tokens, sizeof tokens) == 3);
  ::close(holder);
}

TEST_CASE("a job submitted to a jobserver client while its first job runs waits for a token, not for that job") {
  test::leak_check check;
  test::temp_dir tmp;
  const auto fifo = tmp / "fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  const int holder = ::open(fifo.c_str(), O_RDWR | O_CLOEXEC | O_NONBLOCK);
  REQUIRE(holder >= 0);
  REQUIRE(::write(holder, "+", 1) == 1);  // like make -j2
  // The first job ends only once the second has run: a pool that waited for
  // a free slot instead of a token would never end, and the timeout says so.
  const output o = test::helper("jobserver_tool", "late", tmp.path)
                       .env("MAKEFLAGS", " -j2 --jobserver-auth=fifo:" + fifo.string())
                       .timeout(std::chrono::seconds(20))
                       .stdout_capture()
                       .stderr_capture()
                       .unchecked()
                       .run();
  test::write_file(tmp / "done", "");  // ends a first job left behind by a timeout
  CHECK(o.stderr_bytes.empty());
  CHECK(o.status.success());
  CHECK(o.stdout_bytes == "ok\n");
  char token;
  CHECK(::read(holder, &token, 1) == 1);
  ::close(holder);
}

TEST_CASE("round 3 defect 11: descriptors that are not make's jobserver are refused with the '+' hint") {
  test::leak_check check;
  test::temp_dir tmp;
  const std::string hint = " (make passes its jobserver only to rules marked with '+')";
  const auto run_with = [&](const expression& e) {
    return e.env("MAKEFLAGS", " -j4 --jobserver-auth=3,4").stderr_capture().run().stderr_bytes;
  };
  int first[2], second[2];
  REQUIRE(::pipe(first) == 0);
  REQUIRE(::pipe(second) == 0);
  const auto tool = test::helper("jobserver_tool", "run", test::helper_path("count_running"), tmp.path, "3", "1");
  // Two pipes, each end of another one.
  std::string said = run_with(tool.pass_fd(3, first[0]).pass_fd(4, second[1]));
  CHECK(said.find("descriptors 3 and 4 are not the two ends of one pipe" + hint) != std::string::npos);
  CHECK(peak_in(tmp.path) == 1);
  // One pipe, its ends the wrong way round.
  said = run_with(tool.pass_fd(3, first[1]).pass_fd(4, first[0]));
  CHECK(said.find("descriptor 3 is not open for reading" + hint) != std::string::npos);
  for (const int fd : {first[0], first[1], second[0], second[1]}) ::close(fd);
  // Under an interrupt_guard (script_main) the guard's own descriptor is not
  // where make's would be: what is said is that make passed nothing.
  said = run_with(test::helper("jobserver_tool", "guarded"));
  CHECK(said.find("descriptor 3 is not open" + hint) != std::string::npos);
}
