// The Windows twin of behaviour/test_pool.cpp: at most N at once, cancelling
// queued and running jobs, every failure policy, wait_any(), and what a
// dropped handle or a destroyed pool leaves behind.
#include <algorithm>
#include <mutex>
#include <thread>

#include "windows_support.hpp"

using namespace ductile;
using test::win_helper;
namespace fs = std::filesystem;

namespace {

std::vector<int> peaks(const fs::path& dir) {
  std::istringstream in(test::slurp(dir / "peaks"));
  std::vector<int> values;
  for (int v; in >> v;) values.push_back(v);
  return values;
}

expression gated(const fs::path& gate) { return win_helper("wait_for", gate); }

}  // namespace

TEST_CASE("a pool of 100 short jobs never runs more than max_parallel at once") {
  test::temp_dir tmp;
  std::vector<handle> handles;
  {
    pool p(4);
    for (int i = 0; i < 100; ++i) handles.push_back(p.submit(win_helper("count_running", tmp.path)));
    p.wait_all();
  }
  for (auto& h : handles) CHECK(h.wait().status.success());
  const auto counts = peaks(tmp.path);
  CHECK(counts.size() == 100);
  CHECK(*std::max_element(counts.begin(), counts.end()) <= 4);
  CHECK(*std::min_element(counts.begin(), counts.end()) >= 1);
  // With 20 ms each, four at a time overlap: the pool does run them together.
  CHECK(*std::max_element(counts.begin(), counts.end()) >= 2);
}

TEST_CASE("kill on a queued job cancels it: it never starts") {
  test::temp_dir tmp;
  pool p(1);
  handle first = p.submit(gated(tmp / "gate"));
  handle queued = p.submit(win_helper("touch", tmp / "queued-ran"));
  CHECK(queued.try_wait() == nullptr);
  CHECK(queued.pids().empty());
  queued.kill();
  CHECK_THROWS_AS(queued.wait(), status_error);
  test::write_file(tmp / "gate", "");
  CHECK(first.wait().status.success());
  p.wait_all();
  CHECK_FALSE(fs::exists(tmp / "queued-ran"));
}

TEST_CASE("stop on first failure ends the running jobs and cancels the queued ones") {
  test::temp_dir tmp;
  pool p(2, failure_policy::stop);
  handle running = p.submit(win_helper("sleep", "100000"));
  handle failing = p.submit(win_helper("exit", "1"));
  std::vector<handle> queued;
  for (int i = 0; i < 3; ++i) queued.push_back(p.submit(win_helper("touch", tmp / std::to_string(i))));
  p.wait_all();
  CHECK(p.stopped());
  CHECK_THROWS_AS(failing.wait(), status_error);
  const auto cancelled = test::expect_error<cancelled_error>([&] { running.wait(); });
  CHECK_FALSE(cancelled.output().status.success());
  for (auto& h : queued) CHECK_THROWS_AS(h.wait(), cancelled_error);
  for (int i = 0; i < 3; ++i) CHECK_FALSE(fs::exists(tmp / std::to_string(i)));
  handle late = p.submit(win_helper("exit", "0"));
  CHECK_THROWS_AS(late.wait(), status_error);
  CHECK(test::children().empty());
}

TEST_CASE("keep going runs every job whatever fails") {
  pool p(3);
  std::vector<handle> handles;
  for (int i = 0; i < 12; ++i) handles.push_back(p.submit(win_helper("exit", i % 3 == 0 ? "1" : "0")));
  p.wait_all();
  CHECK_FALSE(p.stopped());
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
  CHECK_FALSE(p.wait_any());
}

TEST_CASE("a job that cannot start fails on its handle and the pool goes on") {
  pool p(1);
  handle bad = p.submit(cmd("no-such-program-ductile"));
  handle good = p.submit(win_helper("echo", "ok").stdout_capture());
  CHECK_THROWS_AS(bad.wait(), spawn_error);
  CHECK(good.wait().stdout_bytes == "ok\n");
}

TEST_CASE("destroying a pool cancels queued jobs and ends running ones") {
  test::temp_dir tmp;
  handle running = win_helper("exit", "0").start();
  handle queued = win_helper("exit", "0").start();
  {
    pool p(1);
    running = p.submit(win_helper("sleep", "100000"));
    queued = p.submit(win_helper("touch", tmp / "never"));
  }
  CHECK_THROWS_AS(running.wait(), status_error);
  CHECK_THROWS_AS(queued.wait(), status_error);
  CHECK_FALSE(fs::exists(tmp / "never"));
  CHECK(test::children().empty());
}

TEST_CASE("kill() on the handle of a pool's running job cancels it, as it does a queued one") {
  test::temp_dir dir;
  const auto started = dir / "started";
  pool p(1);
  handle running = p.submit(win_helper("pid_sleep", started, "30000"));
  handle queued = p.submit(win_helper("exit", "0"));
  REQUIRE(test::eventually([&] { return fs::exists(started); }));
  running.kill();
  const auto cancelled = test::expect_error<cancelled_error>([&] { running.wait(); });
  CHECK(std::string(cancelled.what()).find("was cancelled") != std::string::npos);
  // The slot it held goes to the next job.
  CHECK(queued.wait().status.success());
}

TEST_CASE("a dropped pool handle leaves the job to the pool") {
  test::temp_dir dir;
  const auto log = dir / "log";
  std::size_t last_done = 0, last_total = 0;
  {
    pool p(2);
    p.on_progress([&](const progress& now) {
      last_done = now.done;
      last_total = now.total;
    });
    for (int i = 0; i < 6; ++i)
      (void)p.submit(win_helper("sleep", "50").then(win_helper("echo", std::to_string(i)).stdout_append(log)));
    p.wait_all();
    CHECK(last_done == 6);
    CHECK(last_total == 6);
    std::istringstream lines(test::slurp(log));
    std::vector<std::string> seen;
    for (std::string line; std::getline(lines, line);) seen.push_back(line);
    std::sort(seen.begin(), seen.end());
    CHECK(seen == std::vector<std::string>{"0", "1", "2", "3", "4", "5"});
    (void)p.submit(win_helper("exit", "0"));
    CHECK(p.wait_any().has_value());
    handle kept = p.submit(win_helper("sleep", "30000"));
    kept.kill();
    CHECK_THROWS_AS(kept.wait(), cancelled_error);
  }
  // The pool's destructor ends dropped jobs like the others, running or queued.
  const auto pid_file = dir / "pid";
  {
    pool p(1);
    (void)p.submit(win_helper("pid_sleep", pid_file, "30000"));
    (void)p.submit(win_helper("echo", "never").stdout_append(log));
    REQUIRE(test::eventually([&] { return fs::exists(pid_file) && !test::slurp(pid_file).empty(); }));
  }
  const unsigned long sleeper = std::stoul(test::slurp(pid_file));
  CHECK(test::eventually([&] { return !test::running(sleeper); }));
  CHECK(test::slurp(log).find("never") == std::string::npos);
}

TEST_CASE("every finish is reported before wait_any() hands it out and before the pool goes") {
  for (int round = 0; round < 5; ++round) {
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
      for (int i = 0; i < 10; ++i) (void)p.submit(win_helper("exit", "0"));
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
