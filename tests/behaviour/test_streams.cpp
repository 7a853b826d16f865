// Line callbacks, ordered combined capture, the caller's stdin pipe, and the
// reader handle's full set of calls.
#include <poll.h>

#include "support.hpp"

using namespace ductile;
using namespace std::chrono_literals;

namespace {

// The lines a callback received, shared with the test thread.
struct line_log {
  std::mutex mutex;
  std::vector<std::string> lines;
  void add(std::string_view line) {
    std::lock_guard<std::mutex> lock(mutex);
    lines.emplace_back(line);
  }
  bool has(const std::string& line) {
    std::lock_guard<std::mutex> lock(mutex);
    return std::find(lines.begin(), lines.end(), line) != lines.end();
  }
  std::vector<std::string> all() {
    std::lock_guard<std::mutex> lock(mutex);
    return lines;
  }
};

std::size_t resident_kib() {
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key) {
    if (key == "VmRSS:") {
      std::size_t kib = 0;
      status >> kib;
      return kib;
    }
    status.ignore(1 << 20, '\n');
  }
  return 0;
}

}  // namespace

TEST_CASE("stdout_lines and stderr_lines pass each line of both streams as it is written") {
  test::leak_check check;
  test::temp_dir dir;
  line_log out, err;
  const std::thread::id caller = std::this_thread::get_id();
  std::thread::id callback_thread;
  handle h = test::helper("paced_lines", dir.path.string())
                 .stdout_lines([&](std::string_view line) {
                   callback_thread = std::this_thread::get_id();
                   out.add(line);
                 })
                 .stderr_lines([&](std::string_view line) { err.add(line); })
                 .start();
  REQUIRE(test::eventually([&] { return out.has("out 1") && err.has("err 1"); }));
  CHECK(out.all() == std::vector<std::string>{"out 1"});  // the next line is not written yet
  test::write_file(dir / "go1", "");
  REQUIRE(test::eventually([&] { return out.has("out 2") && err.has("err 2"); }));
  CHECK(out.all().size() == 2);
  test::write_file(dir / "go2", "");
  const output& result = h.wait();
  CHECK(result.status.success());
  CHECK(result.stdout_bytes.empty());  // the lines went to the callback, not a capture
  CHECK(out.all() == std::vector<std::string>{"out 1", "out 2", "out last"});
  CHECK(err.all() == std::vector<std::string>{"err 1", "err 2", "err last"});  // "\r\n" ends a line too
  CHECK(callback_thread != caller);  // a started run calls back on the background thread
}

TEST_CASE("run() calls line callbacks on the calling thread") {
  test::leak_check check;
  const std::thread::id caller = std::this_thread::get_id();
  std::vector<std::string> lines;
  bool on_caller = true;
  cmd("printf", "a\\n\\nb\\r\\nc")
      .stdout_lines([&](std::string_view line) {
        on_caller = on_caller && std::this_thread::get_id() == caller;
        lines.emplace_back(line);
      })
      .run();
  CHECK(lines == std::vector<std::string>{"a", "", "b", "c"});
  CHECK(on_caller);
}

TEST_CASE("64 MiB of lines pass through a callback without the memory growing") {
  test::leak_check check;
  constexpr std::size_t total = 64u << 20;
  std::size_t bytes = 0, lines = 0, peak = 0;
  const std::size_t before = resident_kib();
  test::helper("write_lines", total)
      .stdout_lines([&](std::string_view line) {
        bytes += line.size() + 1;
        if (++lines % 4096 == 0) peak = std::max(peak, resident_kib());
      })
      .run();
  CHECK(bytes == total + (total % 100 != 0));  // the last line has no newline
  CHECK(lines == total / 100 + (total % 100 != 0));
  INFO("resident before: " << before << " KiB, peak: " << peak << " KiB");
  // Sanitizers keep freed memory in quarantine: the bound holds for real builds.
  if (!test::sanitized) CHECK(peak < before + 16 * 1024);
}

TEST_CASE("an exception from a line callback kills the run, reaps it, and propagates") {
  test::leak_check check;
  struct stop_here : std::runtime_error {
    using std::runtime_error::runtime_error;
  };
  int seen = 0;
  const auto failing = test::helper("write_lines", 64u << 20).stdout_lines([&](std::string_view) {
    if (++seen == 5) throw stop_here("enough");
  });
  CHECK_THROWS_AS(failing.run(), stop_here);
  CHECK(seen == 5);

  int started_seen = 0;
  handle h = test::helper("write_lines", 64u << 20)
                 .stderr_to_stdout()
                 .stdout_lines([&](std::string_view) {
                   if (++started_seen == 3) throw stop_here("enough");
                 })
                 .start();
  CHECK_THROWS_AS(h.wait(), stop_here);
  CHECK(started_seen == 3);
}

TEST_CASE("line callbacks follow the innermost-wins rule of redirects") {
  test::leak_check check;
  std::vector<std::string> lines;
  // The inner capture wins over the outer callback, which receives nothing.
  const auto text = sh("echo inner").stdout_capture().stdout_lines([&](std::string_view l) { lines.emplace_back(l); });
  CHECK(text.run().stdout_bytes == "inner\n");
  CHECK(lines.empty());
  // 2>&1 inside a stderr callback sends stderr where stdout goes: the callback.
  cmd("sh", "-c", "echo to-err >&2")
      .stderr_to_stdout()
      .stdout_lines([&](std::string_view l) { lines.emplace_back(l); })
      .run();
  CHECK(lines == std::vector<std::string>{"to-err"});
}

TEST_CASE("combined_capture keeps each stream and both in the order they were read") {
  test::leak_check check;
  const output result = test::helper("alternate_streams", 40).combined_capture().run();
  std::string outs, errs, both;
  for (int i = 0; i < 40; ++i) {
    outs += "out " + std::to_string(i) + "\n";
    errs += "err " + std::to_string(i) + "\n";
    both += "out " + std::to_string(i) + "\nerr " + std::to_string(i) + "\n";
  }
  CHECK(result.stdout_bytes == outs);
  CHECK(result.stderr_bytes == errs);
  CHECK(result.combined_bytes == both);
  // An inner redirect wins: stdout to /dev/null leaves only stderr in the combined bytes.
  const output quiet = sh("echo out; echo err >&2").stdout_null().combined_capture().run();
  CHECK(quiet.combined_bytes == "err\n");
  CHECK(quiet.stdout_bytes.empty());
}

TEST_CASE("stdin_pipe: 64 MiB written from the caller's thread while stdout is captured") {
  test::leak_check check;
  constexpr std::size_t total = 64u << 20;
  handle h = cmd("cat").stdin_pipe().stdout_capture().start();
  const std::string block(1 << 20, 'z');
  bool all_written = true;
  for (std::size_t i = 0; i < total / block.size(); ++i) all_written = h.input().write(block) && all_written;
  CHECK(all_written);
  h.input().close();
  CHECK(h.wait().stdout_bytes.size() == total);
}

TEST_CASE("stdin_pipe drives an interactive program: write, read the answer, write again") {
  test::leak_check check;
  reader_handle r = cmd("cat").stdin_pipe().reader();
  std::string line;
  CHECK(r.input().write("first\n"));
  CHECK(r.read_line_for(line, 10s) == std::optional<bool>(true));
  CHECK(line == "first");
  CHECK(r.input().write("second\n"));
  CHECK(r.read_line_for(line, 10s) == std::optional<bool>(true));
  CHECK(line == "second");
  // Nothing more is written: no line arrives, and none is lost.
  CHECK(r.read_line_for(line, 50ms) == std::nullopt);
  CHECK(r.input().write("third"));
  r.input().close();
  CHECK(r.read_line_for(line, 10s) == std::optional<bool>(true));
  CHECK(line == "third");
  CHECK(r.read_line_for(line, 10s) == std::optional<bool>(false));
  CHECK(r.wait().status.success());
}

TEST_CASE("read_line_for keeps its deadline when the output ends before the run does") {
  test::leak_check check;
  // The last line, then stdout closed while the process goes on.
  reader_handle r = sh("echo last; exec >&-; sleep 0.5; exit 3").reader();
  std::string line;
  CHECK(r.read_line_for(line, 10s) == std::optional<bool>(true));
  CHECK(line == "last");
  const auto start = std::chrono::steady_clock::now();
  CHECK(r.read_line_for(line, 50ms) == std::nullopt);
  CHECK(std::chrono::steady_clock::now() - start < 400ms);
  // Then the end, with the run's checked failure, once.
  CHECK_THROWS_AS(r.read_line_for(line, 10s), status_error);
  CHECK(r.read_line_for(line, 10s) == std::optional<bool>(false));
}

TEST_CASE("stdin_pipe: write() is false once the child has closed its end, without SIGPIPE") {
  test::leak_check check;
  handle h = cmd("head", "-c", "1").stdin_pipe().stdout_null().start();
  const std::string block(1 << 20, 'q');
  bool refused = false;
  for (int i = 0; i < 64 && !refused; ++i) refused = !h.input().write(block);
  CHECK(refused);                        // and this process is still alive to say so
  CHECK_FALSE(h.input().write("more"));  // and stays closed
  CHECK(h.wait().status.success());
}

TEST_CASE("stdin_pipe: waiting closes the pipe, and run() closes it at once") {
  test::leak_check check;
  handle h = cmd("cat").stdin_pipe().stdout_capture().start();
  CHECK(h.input().write("abc"));
  CHECK(h.wait().stdout_bytes == "abc");  // cat saw end of file
  CHECK_FALSE(h.input().write("late"));
  CHECK(cmd("cat").stdin_pipe().read().empty());
  // A sequence shares the pipe: both sides read what the caller wrote.
  handle both = sh("read a; echo \"1:$a\"").then(sh("read b; echo \"2:$b\"")).stdin_pipe().stdout_capture().start();
  CHECK(both.input().write("x\ny\n"));
  CHECK(both.wait().stdout_bytes == "1:x\n2:y\n");
}

TEST_CASE("input() without stdin_pipe() is an error naming the command") {
  test::leak_check check;
  handle h = cmd("true").start();
  const auto error = test::expect_error<ductile::error>([&] { h.input(); });
  CHECK(std::string(error.what()).find("stdin_pipe()") != std::string::npos);
  h.wait();
}

TEST_CASE("a reader_handle's write keeps reading the output, so a caller that writes first cannot deadlock") {
  test::leak_check check;
  constexpr std::size_t total = 16u << 20;
  reader_handle r = cmd("cat").stdin_pipe().reader();
  const std::string block(1 << 20, 'r');
  for (std::size_t i = 0; i < total / block.size(); ++i) REQUIRE(r.input().write(block));
  r.input().close();
  std::size_t read = 0;
  std::vector<char> buffer(1 << 16);
  while (const std::size_t n = r.read(buffer.data(), buffer.size())) read += n;
  CHECK(read == total);
}

TEST_CASE("stderr_reader streams stderr while stdout keeps its redirect") {
  test::leak_check check;
  test::temp_dir dir;
  reader_handle r =
      sh("echo to-out; echo to-err >&2; echo again >&2").stdout_path((dir / "out").string()).stderr_reader();
  std::vector<std::string> lines;
  for (const auto& line : r.lines()) lines.push_back(line);
  CHECK(lines == std::vector<std::string>{"to-err", "again"});
  CHECK(test::slurp(dir / "out") == "to-out\n");
}

TEST_CASE("reader_handle waits, signals, detaches and reads with a deadline like a handle") {
  test::leak_check check;
  SUBCASE("read_for and read_line_for time out on a program that prints nothing, then it is stopped") {
    reader_handle r = cmd("sleep", "30").reader();
    char buffer[16];
    const auto start = std::chrono::steady_clock::now();
    CHECK(r.read_for(buffer, sizeof buffer, 100ms) == std::nullopt);
    std::string line;
    CHECK(r.read_line_for(line, 100ms) == std::nullopt);
    CHECK(std::chrono::steady_clock::now() - start >= 200ms);
    CHECK(r.wait_for(10ms) == nullptr);
    CHECK(r.wait_until(std::chrono::steady_clock::now() + 10ms) == nullptr);
    r.send_signal(SIGTERM);
    const auto error = test::expect_error<status_error>([&] { r.wait(); });
    CHECK(error.output().status.signal() == SIGTERM);
    CHECK(r.read(buffer, sizeof buffer) == 0);  // the failure was thrown once, by wait()
  }
  SUBCASE("a ready line, then a graceful stop") {
    reader_handle r = sh("echo ready; exec sleep 30").reader();
    std::string line;
    REQUIRE(r.read_line_for(line, 10s) == std::optional<bool>(true));
    CHECK(line == "ready");
    CHECK(r.pids().size() == 1);
#if defined(__linux__)
    CHECK(!r.processes().empty());
#endif
    r.send_signal(SIGTERM);
    CHECK_THROWS_AS(r.wait(), status_error);
  }
  SUBCASE("wait keeps output that nobody read yet, however large") {
    reader_handle r = test::helper("write_bytes", 4u << 20).reader();
    CHECK(r.wait().status.success());
    std::size_t read = 0;
    char buffer[65536];
    while (const std::size_t n = r.read(buffer, sizeof buffer)) read += n;
    CHECK(read == (4u << 20));
  }
  SUBCASE("completion_fd becomes readable when the run has finished") {
    reader_handle r = sh("echo done").reader();
    pollfd fd{r.completion_fd(), POLLIN, 0};
    REQUIRE(poll(&fd, 1, 10000) == 1);
    CHECK(r.try_wait() != nullptr);
    std::string line;
    CHECK(r.read_line_for(line, 1s) == std::optional<bool>(true));
    CHECK(line == "done");
  }
  SUBCASE("detach: dropping the handle does not kill") {
    test::temp_dir dir;
    {
      reader_handle r =
          cmd("sh", "-c", "sleep 0.2; echo lived > \"$1\"", "sh", (dir / "mark").string()).stdout_null().reader();
      r.detach();
    }
    CHECK(test::eventually([&] { return test::slurp(dir / "mark") == "lived\n"; }));
  }
}
