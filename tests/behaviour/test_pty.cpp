// pty(): children on a pseudo-terminal served by the event loop.
#include <thread>
#include <tuple>

#include "support.hpp"

using namespace ductile;
using namespace std::chrono_literals;

namespace {

std::string crlf(const std::string& text) {
  std::string out;
  out.reserve(text.size() + text.size() / 50);
  for (const char c : text) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

// Reads until `wanted` has arrived (or 10 s passed); everything read so far.
std::string read_until(reader_handle& r, const std::string& wanted) {
  std::string seen;
  char buffer[4096];
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (seen.find(wanted) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    const auto got = r.read_for(buffer, sizeof buffer, 100ms);
    if (got && *got == 0) break;
    if (got) seen.append(buffer, *got);
  }
  return seen;
}

}  // namespace

TEST_CASE("under pty() the child sees a terminal on 0, 1 and 2, and leads a session with it") {
  test::leak_check check;
  CHECK(test::helper("tty_check").pty().read() == "isatty 1 1 1 controlling 1 leader 1");
  CHECK(test::helper("tty_check").read() == "isatty 0 0 0 controlling 0 leader 0");
  // A redirect inside the subtree wins over the terminal for its stream.
  CHECK(test::helper("tty_check").stdin_null().pty().read() == "isatty 0 1 1 controlling 1 leader 1");
}

TEST_CASE("programs keep their colours under pty()") {
  test::leak_check check;
  test::temp_dir dir;
  test::fs::create_directories(dir / "subdir");
  // ls colours a terminal only if TERM names one that has colours: not the
  // caller's TERM, which may be "dumb" or unset (a CI job, env -i).
  const auto list = cmd("ls", "--color=auto", dir.path.string()).env("TERM", "xterm-256color");
  CHECK(list.pty().read().find("\x1b[") != std::string::npos);
  CHECK(list.read().find("\x1b[") == std::string::npos);
}

TEST_CASE("a prompt without newline is read, and answered through stdin_pipe()") {
  test::leak_check check;
  reader_handle r = sh("printf 'name? '; read name; echo \"hi $name\"").pty().stdin_pipe().reader();
  CHECK(read_until(r, "name? ").find("name? ") != std::string::npos);
  CHECK(r.input().write("bob\n"));
  const std::string answer = read_until(r, "hi bob\r\n");
  CHECK(answer == "bob\r\nhi bob\r\n");  // the terminal echoes what was typed
  CHECK(r.wait().status.success());
}

TEST_CASE("pty sizes: the given one, and resize() while running") {
  test::leak_check check;
  CHECK(cmd("stty", "size").pty(pty_size{30, 100}).read() == "30 100");
  reader_handle r =
      sh("trap 'stty size; exit 0' WINCH; echo ready; while :; do sleep 0.05; done").pty(pty_size{24, 80}).reader();
  std::string line;
  REQUIRE(r.read_line_for(line, 10s) == std::optional<bool>(true));
  CHECK(line == "ready");
  r.resize(pty_size{40, 120});
  REQUIRE(r.read_line_for(line, 10s) == std::optional<bool>(true));
  CHECK(line == "40 120");
  CHECK(r.wait().status.success());
}

TEST_CASE("16 MiB through a terminal are captured exactly, with the terminal's line ends") {
  test::leak_check check;
  constexpr std::size_t total = 16u << 20;
  const std::string plain = test::helper("write_lines", total).stdout_capture().run().stdout_bytes;
  REQUIRE(plain.size() == total);
  const std::string through = test::helper("write_lines", total).pty().stdout_capture().run().stdout_bytes;
  CHECK(through.size() == crlf(plain).size());
  CHECK(through == crlf(plain));
}

TEST_CASE("stdin_bytes around pty() are typed into the terminal, then end of file") {
  test::leak_check check;
  // Typed: the terminal echoes the line, then cat writes it.
  CHECK(cmd("cat").pty().stdin_bytes("typed\n").read() == "typed\r\ntyped");
  // Inside pty() the innermost redirect wins: cat reads the bytes from a pipe.
  CHECK(cmd("cat").stdin_bytes("direct\n").pty().read() == "direct");
}

TEST_CASE("1,000 runs on a pseudo-terminal leave no descriptor behind") {
  test::leak_check check;
  const int runs = test::thread_sanitizer ? 200 : 1000;
  for (int i = 0; i < runs; ++i) REQUIRE(cmd("true").pty().run().status.success());
}

TEST_CASE("round 3 defect 7: write, close, wait ends readline programs on a terminal (python3, bc), 100 times each") {
  test::leak_check check;
  for (const auto& program : {std::tuple<const char*, const char*, const char*>{"python3", "print(40 + 2)\n", "42\r\n"},
                              {"bc", "40 + 2\n", "42\r\n"}}) {
    // Not structured bindings: CAPTURE's lambda cannot take those before C++20 (clang 14).
    const std::string name = std::get<0>(program);
    const char* const line = std::get<1>(program);
    const char* const answer = std::get<2>(program);
    CAPTURE(name);
    if (!which(name)) {
      MESSAGE("skipped " << name << ": not installed");
      continue;
    }
    const expression e = (name == "python3" ? cmd("python3", "-q", "-i") : cmd("bc", "-q")).pty();
    int hung = 0, wrong = 0;
    for (int i = 0; i < 100; ++i) {
      handle h = e.stdin_pipe().stdout_capture().start();
      // Now and then the program is at its prompt (raw mode) before the line
      // comes, as when the host is slow: the end of file then races its
      // switch to canonical mode and back.
      if (i % 4 == 3) std::this_thread::sleep_for(150ms);
      REQUIRE(h.input().write(line));
      h.input().close();
      const output* done = h.wait_for(20s);
      if (done == nullptr) {
        ++hung;
        h.kill();
        continue;
      }
      if (done->stdout_bytes.find(answer) == std::string::npos) ++wrong;
    }
    CHECK(hung == 0);
    CHECK(wrong == 0);
  }
}
