#include <fcntl.h>

#include <atomic>
#include <mutex>

#include "support.hpp"

using namespace ductile;
using test::helper;

namespace {
// Runs `f` with this process's stderr going to a file, and returns what was written.
template <class F>
std::string stderr_of(F&& f) {
  test::temp_dir tmp;
  const int file = ::open((tmp / "stderr").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const int saved = ::fcntl(2, F_DUPFD_CLOEXEC, 3);
  ::dup2(file, 2);
  f();
  ::dup2(saved, 2);
  ::close(saved);
  ::close(file);
  return test::slurp(tmp / "stderr");
}

struct recording_observer : observer {
  std::mutex mutex;
  std::vector<spawn_event> spawns;
  std::vector<exit_event> exits;
  void spawned(const spawn_event& e) override {
    std::lock_guard<std::mutex> lock(mutex);
    spawns.push_back(e);
  }
  void exited(const exit_event& e) override {
    std::lock_guard<std::mutex> lock(mutex);
    exits.push_back(e);
  }
};
}  // namespace

TEST_CASE("trace prints each command to stderr before it starts, like set -x") {
  test::leak_check check;
  const std::string printed = stderr_of([] {
    trace(true);
    (cmd("echo", "a b") | cmd("cat")).stdout_null().run();
    trace(false);
    cmd("echo", "not traced").stdout_null().run();
  });
  CHECK(printed == "+ echo 'a b'\n+ cat\n");
}

TEST_CASE("DUCTILE_TRACE=1 switches tracing on") {
  test::leak_check check;
  const output out = helper("traced_run").env("DUCTILE_TRACE", "1").stderr_capture().run();
  CHECK(out.stderr_bytes == "+ echo traced\n");
  CHECK(helper("traced_run").env_remove("DUCTILE_TRACE").stderr_capture().run().stderr_bytes.empty());
}

TEST_CASE("an observer sees every spawn and exit with status and duration") {
  test::leak_check check;
  auto recorder = std::make_shared<recording_observer>();
  set_observer(recorder);
  const output out = (cmd("true") | sh("exit 3")).unchecked().run();
  handle h = cmd("sleep", "0.05").start();
  h.wait();
  set_observer(nullptr);
  cmd("true").run();
  std::lock_guard<std::mutex> lock(recorder->mutex);
  REQUIRE(recorder->spawns.size() == 3);
  REQUIRE(recorder->exits.size() == 3);
  CHECK(recorder->spawns[0].command == "true");
  CHECK(recorder->spawns[0].pid == out.processes[0].pid);
  CHECK(recorder->spawns[1].command == "/bin/sh -c 'exit 3'");
  bool saw_three = false;
  for (const auto& e : recorder->exits) {
    saw_three = saw_three || e.status.code() == 3;
    CHECK(e.duration.count() >= 0);
  }
  CHECK(saw_three);
  CHECK(recorder->exits.back().command == "sleep 0.05");
  CHECK(recorder->exits.back().duration >= std::chrono::milliseconds(40));
}
