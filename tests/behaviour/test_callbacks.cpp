// No user code runs under a ductile lock: every kind of callback (before_spawn
// hooks, observer events) calls back into its own handle and into a pool. A
// deadlock ends the test program through a watchdog instead of hanging CI.
#include <atomic>
#include <cstdio>
#include <thread>

#include "support.hpp"

using namespace ductile;

namespace {

// The handle a callback reaches for; set by the test before the callback runs.
std::atomic<handle*> current_handle{nullptr};

// Calls back for the runs of the test itself; the pool's own jobs (echo) are
// heard on the background thread while the test may already be done with the
// handle, so those are only counted.
bool from_the_test(const std::string& command) { return command.find("echo") == std::string::npos; }

struct calling_back_observer : observer {
  pool* jobs = nullptr;
  std::atomic<int> spawned_seen{0}, exited_seen{0}, pids_seen{0};
  std::vector<handle> submitted;
  std::mutex submitted_mutex;
  void spawned(const spawn_event& e) override {
    if (!from_the_test(e.command)) return;
    ++spawned_seen;
    if (handle* h = current_handle.load()) pids_seen += static_cast<int>(h->pids().size());
  }
  void exited(const exit_event& e) override {
    if (!from_the_test(e.command)) return;
    ++exited_seen;
    if (handle* h = current_handle.load()) {
      pids_seen += static_cast<int>(h->pids().size());
      h->send_signal(SIGCONT);
    }
    if (jobs != nullptr) {
      (void)jobs->stopped();
      std::lock_guard<std::mutex> lock(submitted_mutex);
      if (submitted.size() < 3) submitted.push_back(jobs->submit(cmd("echo", "from an observer")));
    }
  }
};

}  // namespace

TEST_CASE("a before_spawn hook on a then() right side calls its own handle") {
  test::leak_check check;
  test::without_deadlock([] {
    std::atomic<std::size_t> seen{0};
    handle h = cmd("true")
                   .then(cmd("echo", "right").before_spawn([&](spawn_spec&) {
                     // Waiting here is fine: no lock is held while a hook runs.
                     REQUIRE(test::eventually([] { return current_handle.load() != nullptr; }));
                     handle* self = current_handle.load();
                     seen = self->pids().size();
                     self->send_signal(SIGCONT);
                     CHECK(self->try_wait() == nullptr);
                   }))
                   .stdout_capture()
                   .start();
    current_handle = &h;
    CHECK(h.wait().stdout_bytes == "right\n");
    current_handle = nullptr;
    CHECK(seen == 1);  // the left's pid; the right one is not started yet
  });
}

TEST_CASE("a before_spawn hook calls into a pool, from run(), start() and a pool job") {
  test::leak_check check;
  test::without_deadlock([] {
    pool jobs(2);
    std::vector<handle> submitted;
    std::mutex submitted_mutex;
    auto submitting_hook = [&](spawn_spec&) {
      CHECK_FALSE(jobs.stopped());
      std::lock_guard<std::mutex> lock(submitted_mutex);
      submitted.push_back(jobs.submit(cmd("echo", "from a hook")));
    };
    CHECK(cmd("true").then(cmd("echo", "run").before_spawn(submitting_hook)).read() == "run");
    CHECK(cmd("true")
              .then(cmd("echo", "start").before_spawn(submitting_hook))
              .stdout_capture()
              .start()
              .wait()
              .stdout_bytes == "start\n");
    handle queued = jobs.submit(cmd("true").then(cmd("true").before_spawn(submitting_hook)));
    queued.wait();
    jobs.wait_all();
    std::lock_guard<std::mutex> lock(submitted_mutex);
    REQUIRE(submitted.size() == 3);
    for (auto& h : submitted) CHECK(h.wait().status.success());
  });
}

TEST_CASE("observer events call the observed handle and a pool") {
  test::leak_check check;
  test::without_deadlock([] {
    pool jobs(2);
    auto o = std::make_shared<calling_back_observer>();
    o->jobs = &jobs;
    set_observer(o);
    {
      handle h = cmd("sleep", "0.2").then(cmd("true")).start();
      current_handle = &h;
      h.wait();
      current_handle = nullptr;
    }
    CHECK(cmd("true").then(cmd("true")).read().empty());
    set_observer(nullptr);
    jobs.wait_all();
    CHECK(o->spawned_seen == 4);
    CHECK(o->exited_seen == 4);
    CHECK(o->pids_seen >= 2);  // events delivered inside start() come before the handle is known
    std::lock_guard<std::mutex> lock(o->submitted_mutex);
    CHECK(o->submitted.size() >= 1);
    for (auto& h : o->submitted) CHECK(h.wait().stdout_bytes.empty());
  });
}

TEST_CASE("observers have heard of every process once the run is finished") {
  test::leak_check check;
  auto o = std::make_shared<calling_back_observer>();
  set_observer(o);
  cmd("true").then(cmd("true")).start().wait();
  const int after_wait = o->exited_seen;
  (cmd("true") | cmd("true")).run();
  const int after_run = o->exited_seen;
  set_observer(nullptr);
  CHECK(after_wait == 2);
  CHECK(after_run == 4);
}
