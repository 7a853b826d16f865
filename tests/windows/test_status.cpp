// The Windows twin of behaviour/test_status.cpp: how statuses pass up the
// tree (duct's precedence for pipes, unchecked() and ok_codes()), 32-bit
// codes, and what a failure's message says.
#include "windows_support.hpp"

using namespace ductile;
using namespace std::chrono_literals;
using test::win_helper;
namespace fs = std::filesystem;

namespace {

struct outcome {
  bool threw = false;
  long long code = -1;
};

outcome run_status(const expression& e) {
  outcome result;
  try {
    const auto code = e.run().status.code();
    result.code = code ? static_cast<long long>(*code) : -1;
  } catch (const status_error& error) {
    result.threw = true;
    const auto code = error.output().status.code();
    result.code = code ? static_cast<long long>(*code) : -1;
  }
  return result;
}

expression exits(unsigned code) { return win_helper("exit", std::to_string(code)); }

}  // namespace

TEST_CASE("the pipe precedence table, with unchecked on either side and around") {
  const expression one = exits(1), two = exits(2), ok = exits(0);
  struct row {
    const char* name;
    expression e;
    bool threw;
    long long code;
  };
  const row table[] = {
      {"a | b", one | two, true, 2},
      {"a.unchecked() | b", one.unchecked() | two, true, 2},
      {"a | b.unchecked()", one | two.unchecked(), true, 1},
      {"a.unchecked() | b.unchecked()", one.unchecked() | two.unchecked(), false, 2},
      {"(a | b).unchecked()", (one | two).unchecked(), false, 2},
      {"(a | b.unchecked()).unchecked()", (one | two.unchecked()).unchecked(), false, 1},
      {"(a.unchecked() | b).unchecked()", (one.unchecked() | two).unchecked(), false, 2},
      {"a | true", one | ok, true, 1},
      {"a.unchecked() | true", one.unchecked() | ok, false, 1},
      {"true | b", ok | two, true, 2},
      {"true | b.unchecked()", ok | two.unchecked(), false, 2},
  };
  for (const auto& r : table) {
    CAPTURE(r.name);
    const outcome got = run_status(r.e);
    CHECK(got.threw == r.threw);
    CHECK(got.code == r.code);
  }
}

TEST_CASE("a then() inside unchecked() never starts its right side after a failure") {
  test::temp_dir tmp;
  const auto marker = tmp / "deployed";
  const outcome got = run_status(exits(1).then(win_helper("touch", marker)).unchecked());
  CHECK_FALSE(got.threw);
  CHECK(got.code == 1);
  CHECK_FALSE(fs::exists(marker));
  // a.unchecked().then(b) is `a; b`: b runs and its failure is checked.
  const outcome sequence = run_status(exits(1).unchecked().then(win_helper("touch", marker).then(exits(2))));
  CHECK(fs::exists(marker));
  CHECK(sequence.threw);
  CHECK(sequence.code == 2);
}

TEST_CASE("a fired timeout inside unchecked() stops the then() and is not an error") {
  test::temp_dir tmp;
  const auto marker = tmp / "after";
  const auto result = win_helper("sleep", "5000").timeout(200ms).then(win_helper("touch", marker)).unchecked().run();
  CHECK_FALSE(result.status.success());
  CHECK_FALSE(fs::exists(marker));
  CHECK_THROWS_AS(win_helper("sleep", "5000").timeout(100ms).then(exits(0)).run(), timeout_error);
}

TEST_CASE("unchecked() on a started handle and on a then() chain's left") {
  auto h = (exits(1) | exits(2).unchecked()).unchecked().start();
  CHECK(h.wait().status.code() == exit_status::code_type{1});
  CHECK(exits(1).unchecked().then(win_helper("echo", "ran")).read() == "ran");
  CHECK_THROWS_AS(exits(1).then(win_helper("echo", "ran")).unchecked().then(exits(1)).run(), status_error);
}

TEST_CASE("exit_status is a 32-bit code and never a signal") {
  static_assert(std::is_same_v<exit_status::code_type, std::uint32_t>);
  constexpr exit_status big = exit_status::exited(0xC0000409u);
  static_assert(big.code() == 0xC0000409u && !big.signal() && !big.success());
  static_assert(exit_status::exited(0).success() && exit_status().success());
  const output out = exits(0xFFFFFFFFu).unchecked().run();
  CHECK(out.status == exit_status::exited(0xFFFFFFFFu));
  CHECK_FALSE(out.status.signal().has_value());
  CHECK(to_string(out.status) == "exit code 0xFFFFFFFF");
  CHECK(to_string(exit_status::exited(0xC0000005u)) == "exit code 0xC0000005 (access violation)");
  CHECK(to_string(exit_status::exited(0x7FFFFFFFu)) == "exit code 2147483647");
}

TEST_CASE("ok_codes: listed codes are success, 0 only if listed, and any 32-bit code can be listed") {
  CHECK(exits(1).ok_codes({0, 1}).run().status.code() == exit_status::code_type{1});
  CHECK(exits(0).ok_codes({0, 1}).run().status.success());
  CHECK_THROWS_AS(exits(2).ok_codes({0, 1}).run(), status_error);
  CHECK_THROWS_AS(exits(0).ok_codes({1}).run(), status_error);  // 0 unlisted
  CHECK_THROWS_AS(exits(1).ok_codes({}).run(), status_error);   // an empty list checks as usual
  CHECK(exits(0).ok_codes({}).run().status.success());
  // -1 is 0xFFFFFFFF, and 300 is a code here, not a mistake.
  CHECK(exits(0xFFFFFFFFu).ok_codes({0, -1}).run().status.code() == exit_status::code_type{0xFFFFFFFFu});
  CHECK(exits(300).ok_codes({300}).run().status.code() == exit_status::code_type{300});
  CHECK_THROWS_AS(exits(0xFFFFFFFEu).ok_codes({0, -1}).run(), status_error);
}

TEST_CASE("ok_codes composes with pipes, then and unchecked by the same precedence rules") {
  CHECK((exits(1).ok_codes({0, 1}) | exits(0)).run().status.code() == exit_status::code_type{1});
  CHECK((exits(0) | exits(1).ok_codes({0, 1})).run().status.code() == exit_status::code_type{1});
  CHECK_THROWS_AS((exits(2) | exits(1).ok_codes({0, 1})).run(), status_error);
  CHECK((exits(1) | exits(0)).ok_codes({0, 1}).run().status.code() == exit_status::code_type{1});
  CHECK(exits(1).ok_codes({0, 1}).then(win_helper("echo", "ran")).read() == "ran");
  CHECK(exits(1).then(win_helper("echo", "ran")).ok_codes({0, 1}).read().empty());
  CHECK(exits(2).unchecked().ok_codes({0, 1}).run().status.code() == exit_status::code_type{2});
  CHECK(exits(2).ok_codes({0, 1}).unchecked().run().status.code() == exit_status::code_type{2});
}

TEST_CASE("a failure's message ends with the last lines captured on stderr") {
  const expression failing = win_helper("err", "first\\nsecond\\n", "3").stderr_capture();
  const auto error = test::expect_error<status_error>([&] { failing.run(); });
  CHECK(std::string(error.what()) ==
        "command " + to_string(failing) + " failed: exit code 3\nstderr:\n  first\n  second");
  CHECK(error.output().stderr_bytes == "first\nsecond\n");  // nothing lost

  std::string fifteen;
  for (int i = 1; i <= 15; ++i) fifteen += "line" + std::to_string(i) + "\\n";
  const auto many = test::expect_error<status_error>([&] { win_helper("err", fifteen, "1").stderr_capture().run(); });
  const std::string text = many.what();
  CHECK(text.substr(text.find('\n')) ==
        "\nstderr (truncated):\n  line6\n  line7\n  line8\n  line9\n  line10\n  line11\n  line12\n  line13\n  "
        "line14\n  line15");
  // Uncaptured stderr leaves the message as it was.
  const auto plain = test::expect_error<status_error>([] { exits(1).run(); });
  CHECK(std::string(plain.what()) == "command " + to_string(exits(1)) + " failed: exit code 1");
}

TEST_CASE("a failing pipeline's message names the stage whose status decided it") {
  const expression stage = exits(1);
  const auto error =
      test::expect_error<status_error>([&] { (win_helper("lines", "3") | stage | win_helper("cat")).run(); });
  const std::string text = error.what();
  CHECK(text.rfind(to_string(stage) + " exited with code 1: command ", 0) == 0);
  const auto crashed = test::expect_error<status_error>([] { (exits(0) | win_helper("crash")).run(); });
  CHECK(std::string(crashed.what()).find("exited with code 0xC0000005 (access violation)") != std::string::npos);
}
