// Fault injection: the executor's system calls fail on purpose, through the
// seam in lib/system_calls. Every failure must give a clear error, kill and
// reap whatever had already started, close every descriptor it opened, and
// leave no thread behind.
#if __has_include("os/system_calls.hpp")
#include "os/system_calls.hpp"
#endif  // else the single header has it inline
#include <atomic>
#include <cerrno>

#include "support.hpp"

using namespace ductile;
using ductile::detail::sys::call;

namespace {

constexpr int call_kinds = 12;  // every sys::call

// What the injector does; plain atomics, because it also runs in children
// between clone and exec.
struct fault_plan {
  std::atomic<int> target{-1};  // the kind of call to fail once
  std::atomic<int> nth{0};      // ... on its nth occurrence
  std::atomic<int> error{0};
  std::atomic<int> seen{0};
  std::atomic<int> fail_exec_of_spawn{0};  // fail exec in the nth process spawned
  std::atomic<int> spawns{0};
  std::atomic<bool> fail_this_exec{false};
  std::atomic<unsigned> interrupt_kinds{0};  // these fail with EINTR on every other call
  std::atomic<int> interrupted[call_kinds] = {};
};

fault_plan plan;

int inject(call which) noexcept {
  const int kind = static_cast<int>(which);
  if (which == call::clone && plan.fail_exec_of_spawn.load() > 0)
    plan.fail_this_exec = ++plan.spawns == plan.fail_exec_of_spawn.load();
  // The decision is made in the parent before clone: a child that does not
  // share memory with the parent (the ThreadSanitizer build) sees it too.
  if (which == call::exec && plan.fail_this_exec.load()) return EIO;
  if ((plan.interrupt_kinds.load() & (1u << kind)) != 0) {
    thread_local unsigned alternate = 0;  // per thread, so every retry succeeds
    if (alternate++ % 2 == 0) {
      ++plan.interrupted[kind];
      return EINTR;
    }
  }
  if (kind == plan.target.load() && ++plan.seen == plan.nth.load()) return plan.error.load();
  return 0;
}

// Installs the injector for one test and always removes it.
struct injected {
  injected() { ductile::detail::sys::set_fault_injector(inject); }
  ~injected() {
    ductile::detail::sys::set_fault_injector(nullptr);
    plan.target = -1;
    plan.nth = 0;
    plan.error = 0;
    plan.seen = 0;
    plan.fail_exec_of_spawn = 0;
    plan.spawns = 0;
    plan.fail_this_exec = false;
    plan.interrupt_kinds = 0;
    for (auto& count : plan.interrupted) count = 0;
  }
  static void fail(call which, int nth, int error) {
    plan.target = static_cast<int>(which);
    plan.nth = nth;
    plan.error = error;
  }
};

using clock_type = std::chrono::steady_clock;

}  // namespace

TEST_CASE("a pipe that cannot be made after children started: error, and they are killed and reaped") {
  test::leak_check leaks;
  const int threads = test::thread_count();
  // `sleep` runs at once; the pipe inside the `then` is made only after `true`
  // has finished, and that one fails.
  const auto tree = cmd("sleep", "30") | cmd("true").then(cmd("cat") | cmd("cat"));
  injected faults;
  injected::fail(call::pipe, 2, EMFILE);
  const auto start = clock_type::now();
  const auto e = test::expect_error<spawn_error>([&] { tree.run(); });
  CHECK(clock_type::now() - start < std::chrono::seconds(10));
  CHECK(e.step() == "pipe");
  CHECK(e.code() == std::errc::too_many_files_open);
  CHECK(std::string(e.what()).find("cannot make a pipe") != std::string::npos);
  CHECK(std::string(e.what()).find("cat | cat") != std::string::npos);
  CHECK(test::thread_count() == threads);
}

TEST_CASE("clone failing with EAGAIN on the third process: error, and the first two are killed and reaped") {
  test::leak_check leaks;
  const int threads = test::thread_count();
  const auto tree = cmd("sleep", "30") | cmd("sleep", "30") | cmd("cat");
  injected faults;
  injected::fail(call::clone, 3, EAGAIN);
  const auto start = clock_type::now();
  const auto e = test::expect_error<spawn_error>([&] { tree.run(); });
  CHECK(clock_type::now() - start < std::chrono::seconds(10));
  CHECK(e.step() == "clone");
  CHECK(e.code() == std::errc::resource_unavailable_try_again);
  CHECK(std::string(e.what()).find("cannot create a process") != std::string::npos);
  CHECK(e.command() == "cat");
  CHECK(test::thread_count() == threads);
}

TEST_CASE("clone failing in a started handle's later stage surfaces from wait, with nothing left running") {
  test::leak_check leaks;
  const auto tree = cmd("sleep", "30") | cmd("true").then(cmd("cat"));
  injected faults;
  injected::fail(call::clone, 3, EAGAIN);
  auto running = tree.start();
  const auto start = clock_type::now();
  CHECK_THROWS_AS(running.wait(), spawn_error);
  CHECK(clock_type::now() - start < std::chrono::seconds(10));
}

TEST_CASE("a redirect that cannot be opened after children started: error, and they are killed and reaped") {
  test::leak_check leaks;
  test::temp_dir dir;
  test::write_file(dir / "input", "text\n");
  const auto tree = cmd("sleep", "30") | cmd("true").then(cmd("cat").stdin_path(dir / "input"));
  injected faults;
  injected::fail(call::open, 1, ENFILE);
  const auto start = clock_type::now();
  const auto e = test::expect_error<spawn_error>([&] { tree.run(); });
  CHECK(clock_type::now() - start < std::chrono::seconds(10));
  CHECK(e.step() == "open stdin");
  CHECK(e.code() == std::errc::too_many_files_open_in_system);
  CHECK(std::string(e.what()).find("input") != std::string::npos);
}

TEST_CASE("exec failing in the middle of a pipeline names the step and the cause; the others are reaped") {
  test::leak_check leaks;
  const int threads = test::thread_count();
  const auto tree = cmd("sleep", "30") | cmd("cat") | cmd("cat");
  injected faults;
  plan.fail_exec_of_spawn = 2;
  const auto start = clock_type::now();
  const auto e = test::expect_error<spawn_error>([&] { tree.run(); });
  CHECK(clock_type::now() - start < std::chrono::seconds(10));
  CHECK(e.step() == "exec");
  CHECK(e.code() == std::errc::io_error);
  CHECK(std::string(e.what()).find("cannot execute \"cat\"") != std::string::npos);
  CHECK(test::thread_count() == threads);
}

TEST_CASE("EINTR on every other read, write, poll, waitid and open changes no byte and no status") {
  test::leak_check leaks;
  test::temp_dir dir;
  std::string input(1 << 20, '\0');
  for (std::size_t i = 0; i < input.size(); ++i) input[i] = static_cast<char>('a' + i % 23);
  test::write_file(dir / "input", input);
  injected faults;
  plan.interrupt_kinds = (1u << static_cast<int>(call::read)) | (1u << static_cast<int>(call::write)) |
                         (1u << static_cast<int>(call::poll)) | (1u << static_cast<int>(call::waitid)) |
                         (1u << static_cast<int>(call::open));

  // All three streams at once, through the caller's own loop.
  const auto out = test::helper("mirror").stdin_bytes(input).stdout_capture().stderr_capture().run();
  CHECK(out.stdout_bytes == input);
  CHECK(out.stderr_bytes == input);
  CHECK(out.status.success());

  // A file redirect, a pipe and a failing status, through the background thread.
  auto running = (cmd("cat").stdin_path(dir / "input") | cmd("sh", "-c", "cat; exit 3")).stdout_capture().start();
  CHECK_THROWS_AS(running.wait(), status_error);
  try {
    running.wait();
  } catch (const status_error& e) {
    CHECK(e.output().stdout_bytes == input);
    CHECK(e.output().status.code() == 3);
  }

  // An incremental reader, and a timeout that still fires.
  int lines = 0;
  for (const auto& line : cmd("sh", "-c", "for i in 1 2 3 4 5; do echo line$i; done").lines()) {
    CHECK(line.rfind("line", 0) == 0);
    ++lines;
  }
  CHECK(lines == 5);
  CHECK_THROWS_AS(cmd("sleep", "30").timeout(std::chrono::milliseconds(100)).run(), timeout_error);

  for (const call kind : {call::read, call::write, call::poll, call::waitid, call::open})
    CHECK(plan.interrupted[static_cast<int>(kind)] > 0);
}

TEST_CASE("poll failing outright ends the run with an error naming it; children are killed and reaped") {
  test::leak_check leaks;
  injected faults;
  injected::fail(call::poll, 1, ENOMEM);
  const auto start = clock_type::now();
  try {
    (cmd("sleep", "30") | cmd("cat")).stdout_capture().run();
    FAIL("no error");
  } catch (const ductile::error& e) {
    CHECK(std::string(e.what()).find("poll failed") != std::string::npos);
    CHECK(e.command().find("sleep 30 | cat") != std::string::npos);
  }
  CHECK(clock_type::now() - start < std::chrono::seconds(10));
}

TEST_CASE("the background thread's poll failing finishes every started run with that error") {
  test::leak_check leaks;
  auto first = cmd("sleep", "30").start();
  auto second = (cmd("sleep", "30") | cmd("cat")).start();
  {
    injected faults;
    injected::fail(call::poll, 1, ENOMEM);
    // Wake the thread so that its next poll is the failing one (it may
    // already be on its way there: either way `third` finishes).
    auto third = cmd("true").unchecked().start();
    try {
      third.wait();
    } catch (const ductile::error&) {
    }
    CHECK_THROWS_WITH_AS(first.wait(), doctest::Contains("poll failed"), ductile::error);
    CHECK_THROWS_WITH_AS(second.wait(), doctest::Contains("poll failed"), ductile::error);
  }
}
