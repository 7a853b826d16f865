// The Windows twin of behaviour/test_callbacks.cpp: no user code runs under
// a ductile lock. before_spawn hooks and observer events call back into their
// own handle and into a pool; a deadlock ends the test program through a
// watchdog instead of hanging CI.
#include <atomic>
#include <cstdio>
#include <thread>

#include "windows_support.hpp"

using namespace ductile;
using test::win_helper;

namespace {

std::atomic<handle*> current_handle{nullptr};

// The pool's own jobs (echo) are heard on the background thread while the
// test may be done with the handle, so those are only counted.
bool from_the_test(const std::string& command) { return command.find(" echo") == std::string::npos; }

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
      (void)h->try_wait();
    }
    if (jobs != nullptr) {
      (void)jobs->stopped();
      std::lock_guard<std::mutex> lock(submitted_mutex);
      if (submitted.size() < 3) submitted.push_back(jobs->submit(win_helper("echo", "from an observer")));
    }
  }
};

}  // namespace

TEST_CASE("a before_spawn hook on a then() right side calls its own handle") {
  test::without_deadlock([] {
    std::atomic<std::size_t> seen{0};
    handle h = win_helper("exit", "0")
                   .then(win_helper("echo", "right").before_spawn([&](spawn_spec&) {
                     REQUIRE(test::eventually([] { return current_handle.load() != nullptr; }));
                     handle* self = current_handle.load();
                     seen = self->pids().size();
                     CHECK(self->try_wait() == nullptr);
                     CHECK(self->wait_for(std::chrono::milliseconds(1)) == nullptr);
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
  test::without_deadlock([] {
    pool jobs(2);
    std::vector<handle> submitted;
    std::mutex submitted_mutex;
    auto submitting_hook = [&](spawn_spec&) {
      CHECK_FALSE(jobs.stopped());
      std::lock_guard<std::mutex> lock(submitted_mutex);
      submitted.push_back(jobs.submit(win_helper("echo", "from a hook")));
    };
    CHECK(win_helper("exit", "0").then(win_helper("echo", "run").before_spawn(submitting_hook)).read() == "run");
    CHECK(win_helper("exit", "0")
              .then(win_helper("echo", "start").before_spawn(submitting_hook))
              .stdout_capture()
              .start()
              .wait()
              .stdout_bytes == "start\n");
    handle queued = jobs.submit(win_helper("exit", "0").then(win_helper("exit", "0").before_spawn(submitting_hook)));
    queued.wait();
    jobs.wait_all();
    std::lock_guard<std::mutex> lock(submitted_mutex);
    REQUIRE(submitted.size() == 3);
    for (auto& h : submitted) CHECK(h.wait().status.success());
  });
}

TEST_CASE("observer events call the observed handle and a pool") {
  test::without_deadlock([] {
    pool jobs(2);
    auto o = std::make_shared<calling_back_observer>();
    o->jobs = &jobs;
    set_observer(o);
    {
      handle h = win_helper("sleep", "200").then(win_helper("exit", "0")).start();
      current_handle = &h;
      h.wait();
      current_handle = nullptr;
    }
    CHECK(win_helper("exit", "0").then(win_helper("exit", "0")).read().empty());
    set_observer(nullptr);
    jobs.wait_all();
    CHECK(o->spawned_seen == 4);
    CHECK(o->exited_seen == 4);
    CHECK(o->pids_seen >= 2);
    std::lock_guard<std::mutex> lock(o->submitted_mutex);
    CHECK(o->submitted.size() >= 1);
    for (auto& h : o->submitted) CHECK(h.wait().status.success());
  });
}

TEST_CASE("observers have heard of every process once the run is finished") {
  auto o = std::make_shared<calling_back_observer>();
  set_observer(o);
  win_helper("exit", "0").then(win_helper("exit", "0")).start().wait();
  const int after_wait = o->exited_seen;
  (win_helper("exit", "0") | win_helper("exit", "0")).run();
  const int after_run = o->exited_seen;
  set_observer(nullptr);
  CHECK(after_wait == 2);
  CHECK(after_run == 4);
}
