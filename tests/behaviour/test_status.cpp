// How statuses pass up the tree: duct's precedence for pipes, and unchecked()
// wrapping the status that comes out of its subtree (defect 1 of the audit:
// it used to be pushed down to every leaf).
#include "support.hpp"

using namespace ductile;

namespace {

struct outcome {
  bool threw = false;
  int code = -1;
};

outcome run_status(const expression& e) {
  outcome result;
  try {
    result.code = e.run().status.code().value_or(-1);
  } catch (const status_error& error) {
    result.threw = true;
    result.code = error.output().status.code().value_or(-1);
  }
  return result;
}

const expression one = sh("exit 1");
const expression two = sh("exit 2");
const expression ok = cmd("true");

}  // namespace

TEST_CASE("defect 1: the pipe precedence table, with unchecked on either side and around") {
  test::leak_check check;
  struct row {
    const char* name;
    expression e;
    bool threw;
    int code;
  };
  const row table[] = {
      {"a | b", one | two, true, 2},
      {"a.unchecked() | b", one.unchecked() | two, true, 2},
      {"a | b.unchecked()", one | two.unchecked(), true, 1},
      {"a.unchecked() | b.unchecked()", one.unchecked() | two.unchecked(), false, 2},
      {"(a | b).unchecked()", (one | two).unchecked(), false, 2},
      {"(a | b.unchecked()).unchecked()", (one | two.unchecked()).unchecked(), false, 1},
      {"(a.unchecked() | b).unchecked()", (one.unchecked() | two).unchecked(), false, 2},
      {"(a.unchecked() | b.unchecked()).unchecked()", (one.unchecked() | two.unchecked()).unchecked(), false, 2},
      {"a | true", one | ok, true, 1},
      {"a.unchecked() | true", one.unchecked() | ok, false, 1},
      {"(a | true).unchecked()", (one | ok).unchecked(), false, 1},
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

TEST_CASE("defect 1: a then() inside unchecked() never starts its right side after a failure") {
  test::leak_check check;
  test::temp_dir tmp;
  const auto marker = tmp / "deployed";
  const outcome got = run_status(cmd("false").then(cmd("touch", marker)).unchecked());
  CHECK_FALSE(got.threw);
  CHECK(got.code == 1);
  CHECK_FALSE(test::fs::exists(marker));
  // a.unchecked().then(b) is `a; b`: b runs and its failure is checked.
  const outcome sequence = run_status(cmd("false").unchecked().then(cmd("touch", marker).then(two)));
  CHECK(test::fs::exists(marker));
  CHECK(sequence.threw);
  CHECK(sequence.code == 2);
}

TEST_CASE("defect 1: a fired timeout inside unchecked() stops the then() and is not an error") {
  test::leak_check check;
  test::temp_dir tmp;
  const auto marker = tmp / "after";
  const auto result =
      cmd("sleep", "5").timeout(std::chrono::milliseconds(200)).then(cmd("touch", marker)).unchecked().run();
  CHECK(result.status.signal() == SIGTERM);
  CHECK_FALSE(test::fs::exists(marker));
  // Without unchecked the same is a timeout_error.
  CHECK_THROWS_AS(cmd("sleep", "5").timeout(std::chrono::milliseconds(100)).then(cmd("true")).run(), timeout_error);
}

TEST_CASE("defect 1: unchecked() on a started handle and on a then() chain's left") {
  test::leak_check check;
  auto h = (one | two.unchecked()).unchecked().start();
  CHECK(h.wait().status.code() == 1);
  CHECK(cmd("false").unchecked().then(cmd("echo", "ran")).read() == "ran");
  CHECK_THROWS_AS(cmd("false").then(cmd("echo", "ran")).unchecked().then(cmd("false")).run(), status_error);
}
