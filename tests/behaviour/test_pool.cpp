#include <sys/wait.h>

#include <algorithm>
#include <mutex>
#include <thread>

#include "support.hpp"

using namespace ductile;
namespace fs = std::filesystem;
using test::helper;

namespace {
std::vector<int> peaks(const std::filesystem::path& dir) {
  std::istringstream in(test::slurp(dir / "peaks"));
  std::vector<int> values;
  for (int v; in >> v;) values.push_back(v);
  return values;
}
expression gated(const std::filesystem::path& gate) {
  return sh("while [ ! -e '" + gate.string() + "' ]; do sleep 0.01; done");
}
}  // namespace

TEST_CASE("a pool of one job at a time starts its jobs from the background thread, adding no thread") {
  test::leak_check check;
  cmd("true").start().wait();  // the background thread exists before the count
  const int threads_before = test::thread_count();
  pool p(1);
  std::vector<handle> handles;
  for (int i = 0; i < 20; ++i) handles.push_back(p.submit(cmd("true")));
  p.wait_all();
  for (auto& h : handles) CHECK(h.wait().status.success());
  CHECK(test::thread_count() == threads_before);
}

TEST_CASE("a pool of 200 short jobs never runs more than max_parallel at once") {
  test::leak_check check;
  test::temp_dir tmp;
  const int threads_before = test::thread_count();
  // Jobs start side by side on shared launcher threads, at most one per core
  // (at least two) for the whole process, never one per job.
  const int launcher_limit = static_cast<int>(std::max(2u, std::thread::hardware_concurrency()));
  std::vector<handle> handles;
  {
    pool p(4);
    for (int i = 0; i < 200; ++i) handles.push_back(p.submit(helper("count_running", tmp.path)));
    CHECK(test::thread_count() <= threads_before + launcher_limit);
    p.wait_all();
  }
  CHECK(test::thread_count() <= threads_before + launcher_limit);
  for (auto& h : handles) CHECK(h.wait().status.success());
  const auto counts = peaks(tmp.path);
  CHECK(counts.size() == 200);
  CHECK(*std::max_element(counts.begin(), counts.end()) <= 4);
  CHECK(*std::min_element(counts.begin(), counts.end()) >= 1);
}

TEST_CASE("kill on a queued job cancels it: it never starts") {
  test::leak_check check;
  test::temp_dir tmp;
  pool p(1);
  handle first = p.submit(gated(tmp / "gate"));
  handle queued = p.submit(cmd("touch", tmp / "queued-ran"));
  CHECK(queued.try_wait() == nullptr);
  CHECK(queued.pids().empty());
  queued.kill();
  CHECK_THROWS_AS(queued.wait(), status_error);
  test::write_file(tmp / "gate", "");
  CHECK(first.wait().status.success());
  p.wait_all();
  CHECK(!std::filesystem::exists(tmp / "queued-ran"));
}

TEST_CASE("stop on first failure ends the running jobs and cancels the queued ones") {
  test::leak_check check;
  test::temp_dir tmp;
  pool p(2, failure_policy::stop);
  // Running before the failure comes: a job still being started then is
  // cancelled before it starts instead (no SIGTERM), which is not this case.
  handle running = p.submit(sh("touch " + (tmp / "started").string() + "; exec sleep 100"));
  REQUIRE(test::eventually([&] { return std::filesystem::exists(tmp / "started"); }));
  handle failing = p.submit(sh("exit 1"));
  std::vector<handle> queued;
  for (int i = 0; i < 3; ++i) queued.push_back(p.submit(cmd("touch", tmp / std::to_string(i))));
  p.wait_all();
  CHECK(p.stopped());
  CHECK_THROWS_AS(failing.wait(), status_error);
  try {
    running.wait();
    FAIL("expected cancelled_error");
  } catch (const cancelled_error& error) {
    CHECK(error.output().status.signal() == SIGTERM);
  }
  for (auto& h : queued) CHECK_THROWS_AS(h.wait(), cancelled_error);
  for (int i = 0; i < 3; ++i) CHECK(!std::filesystem::exists(tmp / std::to_string(i)));
  handle late = p.submit(cmd("true"));
  CHECK_THROWS_AS(late.wait(), status_error);
}

TEST_CASE("keep going runs every job whatever fails") {
  test::leak_check check;
  pool p(3);
  std::vector<handle> handles;
  for (int i = 0; i < 12; ++i) handles.push_back(p.submit(sh("exit " + std::to_string(i % 3 == 0))));
  p.wait_all();
  CHECK(!p.stopped());
  int failures = 0;
  for (auto& h : handles) {
    try {
      h.wait();
    } catch (const status_error&) {
      ++failures;
    }
  }
  CHECK(failures == 4);
}

TEST_CASE("wait_any returns jobs in the order they finish, then nothing") {
  test::leak_check check;
  test::temp_dir tmp;
  pool p(3);
  std::vector<handle> handles;
  for (int i = 0; i < 3; ++i) handles.push_back(p.submit(gated(tmp / ("gate" + std::to_string(i)))));
  std::vector<std::size_t> order;
  for (int gate : {2, 0, 1}) {
    test::write_file(tmp / ("gate" + std::to_string(gate)), "");
    order.push_back(p.wait_any().value());
  }
  CHECK(order == std::vector<std::size_t>{2, 0, 1});
  CHECK(!p.wait_any());
}

TEST_CASE("a job that cannot start fails on its handle and the pool goes on") {
  test::leak_check check;
  pool p(1);
  handle bad = p.submit(cmd("no-such-program-ductile"));
  handle good = p.submit(cmd("echo", "ok").stdout_capture());
  CHECK_THROWS_AS(bad.wait(), spawn_error);
  CHECK(good.wait().stdout_bytes == "ok\n");
}

TEST_CASE("destroying a pool cancels queued jobs and reaps running ones") {
  test::leak_check check;
  test::temp_dir tmp;
  handle running = cmd("true").start();
  handle queued = cmd("true").start();
  {
    pool p(1);
    running = p.submit(cmd("sleep", "100"));
    queued = p.submit(cmd("touch", tmp / "never"));
  }
  CHECK_THROWS_AS(running.wait(), status_error);
  CHECK_THROWS_AS(queued.wait(), status_error);
  CHECK(!std::filesystem::exists(tmp / "never"));
}

TEST_CASE("kill() on the handle of a pool's running job cancels it, as it does a queued one") {
  test::leak_check check;
  test::temp_dir dir;
  const auto started = dir / "started";
  pool p(1);
  handle running = p.submit(sh("touch '" + started.string() + "'; exec sleep 30"));
  handle queued = p.submit(cmd("true"));
  while (!fs::exists(started)) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  running.kill();
  try {
    running.wait();
    FAIL("a killed pool job did not throw");
  } catch (const cancelled_error& cancelled) {
    CHECK(std::string(cancelled.what()).find("was cancelled") != std::string::npos);
    CHECK(cancelled.output().status == exit_status::killed(SIGKILL));
  }
  // The slot it held goes to the next job.
  CHECK(queued.wait().status.success());
}

TEST_CASE("round 3 defect 8: a dropped pool handle leaves the job to the pool") {
  test::leak_check check;
  test::temp_dir dir;
  const auto log = dir / "log";
  std::size_t last_done = 0, last_total = 0;
  {
    pool p(2);
    p.on_progress([&](const progress& now) {
      last_done = now.done;
      last_total = now.total;
    });
    // What a build tool writes first: the handles are not kept.
    for (int i = 0; i < 6; ++i)
      (void)p.submit(sh("sleep 0.05; echo " + std::to_string(i) + " >> '" + log.string() + "'"));
    p.wait_all();
    CHECK(last_done == 6);
    CHECK(last_total == 6);
    std::istringstream lines(test::slurp(log));
    std::vector<std::string> seen;
    for (std::string line; std::getline(lines, line);) seen.push_back(line);
    std::sort(seen.begin(), seen.end());
    CHECK(seen == std::vector<std::string>{"0", "1", "2", "3", "4", "5"});

    // wait_any() hands out dropped jobs too.
    (void)p.submit(cmd("true"));
    CHECK(p.wait_any().has_value());
    // kill() on a kept handle still cancels.
    handle kept = p.submit(cmd("sleep", "30"));
    kept.kill();
    CHECK_THROWS_AS(kept.wait(), cancelled_error);
  }
  // The pool's destructor ends dropped jobs like the others, running or queued.
  const auto pid_file = dir / "pid";
  {
    pool p(1);
    (void)p.submit(sh("echo $$ > '" + pid_file.string() + "'; exec sleep 30"));
    (void)p.submit(sh("echo never >> '" + log.string() + "'"));
    REQUIRE(test::eventually([&] { return !test::slurp(pid_file).empty(); }));
  }
  const pid_t sleeper = std::stoi(test::slurp(pid_file));
  CHECK(test::stopped_running(sleeper));
  CHECK(test::slurp(log).find("never") == std::string::npos);
}

TEST_CASE("round 3 defect 9: every finish is reported before wait_any() hands it out and before the pool goes") {
  for (int round = 0; round < 20; ++round) {
    CAPTURE(round);
    std::mutex mutex;
    std::vector<std::size_t> done;
    std::size_t handed_out = 0;
    bool behind = false;
    {
      pool p(3);
      p.on_progress([&](const progress& now) {
        std::lock_guard<std::mutex> lock(mutex);
        done.push_back(now.done);
      });
      for (int i = 0; i < 10; ++i) (void)p.submit(cmd("true"));
      while (p.wait_any()) {
        ++handed_out;
        std::lock_guard<std::mutex> lock(mutex);
        if (done.empty() || done.back() < handed_out) behind = true;
      }
    }
    CHECK_FALSE(behind);
    std::lock_guard<std::mutex> lock(mutex);
    REQUIRE_FALSE(done.empty());
    CHECK(done.back() == 10);
  }
}

TEST_CASE("a process forked after a pool started jobs side by side makes launcher threads of its own") {
  if (test::thread_sanitizer) {
    MESSAGE("skipped: ThreadSanitizer cannot start threads in a child forked from a threaded process");
    return;
  }
  test::leak_check check;
  {
    pool p(4);
    for (int i = 0; i < 8; ++i) p.submit(cmd("true"));
    p.wait_all();
  }
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // The parent's launcher threads are not here: the first pool makes new ones.
    int succeeded = 0;
    {
      pool p(4);
      std::vector<handle> handles;
      for (int i = 0; i < 8; ++i) handles.push_back(p.submit(cmd("true")));
      p.wait_all();
      for (auto& h : handles) succeeded += h.wait().status.success() ? 1 : 0;
    }
    _exit(succeeded == 8 ? 0 : 1);
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}
