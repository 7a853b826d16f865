// The Windows twin of behaviour/test_observe.cpp: trace() and DUCTILE_TRACE
// print each command before it starts, and an observer hears every spawn and
// exit.
#include <fcntl.h>
#include <io.h>

#include <mutex>

#include "windows_support.hpp"

using namespace ductile;
using test::win_helper;

namespace {

// Runs `f` with this process's stderr going to a file, and returns what was written.
template <class F>
std::string stderr_of(F&& f) {
  test::temp_dir tmp;
  const int file = _wopen((tmp / "stderr").c_str(), _O_WRONLY | _O_CREAT | _O_TRUNC | _O_BINARY, 0644);
  std::fflush(stderr);
  const int saved = _dup(2);
  _dup2(file, 2);
  f();
  std::fflush(stderr);
  _dup2(saved, 2);
  _close(saved);
  _close(file);
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
  const auto echo = win_helper("echo", "a b");
  const auto cat = win_helper("cat");
  const std::string printed = stderr_of([&] {
    trace(true);
    (echo | cat).stdout_null().run();
    trace(false);
    win_helper("echo", "not traced").stdout_null().run();
  });
  CHECK(printed == "+ " + to_string(echo) + "\n+ " + to_string(cat) + "\n");
}

TEST_CASE("DUCTILE_TRACE=1 switches tracing on") {
  const auto traced_run = cmd(test::own_directory() / "traced_run.exe");
  const output out = traced_run.env("DUCTILE_TRACE", "1").stderr_capture().run();
  // traced_run.exe's stderr is in the C runtime's text mode, as a program's
  // is unless it says otherwise: its newline is CR LF.
  CHECK(out.stderr_bytes == "+ " + to_string(win_helper("echo", "traced")) + "\r\n");
  CHECK(traced_run.env_remove("DUCTILE_TRACE").stderr_capture().run().stderr_bytes.empty());
}

TEST_CASE("an observer sees every spawn and exit with status and duration") {
  auto recorder = std::make_shared<recording_observer>();
  set_observer(recorder);
  const output out = (win_helper("exit", "0") | win_helper("exit", "3")).unchecked().run();
  handle h = win_helper("sleep", "50").start();
  h.wait();
  set_observer(nullptr);
  win_helper("exit", "0").run();
  std::lock_guard<std::mutex> lock(recorder->mutex);
  REQUIRE(recorder->spawns.size() == 3);
  REQUIRE(recorder->exits.size() == 3);
  CHECK(recorder->spawns[0].command == to_string(win_helper("exit", "0")));
  CHECK(recorder->spawns[0].pid == out.processes[0].pid);
  CHECK(recorder->spawns[1].command == to_string(win_helper("exit", "3")));
  bool saw_three = false;
  for (const auto& e : recorder->exits) {
    saw_three = saw_three || e.status.code() == exit_status::code_type{3};
    CHECK(e.duration.count() >= 0);
  }
  CHECK(saw_three);
  CHECK(recorder->exits.back().command == to_string(win_helper("sleep", "50")));
  CHECK(recorder->exits.back().duration >= std::chrono::milliseconds(40));
}
