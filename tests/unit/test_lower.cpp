// Lowering on its own: no process is spawned in this suite. pass_fd() is
// refused on Windows when the expression is built (test_format.cpp).
#if __has_include("plan/plan.hpp")
#include "plan/plan.hpp"
#endif  // else the single header has it inline
#include <sys/stat.h>

#include "portable_support.hpp"

using namespace ductile;
using namespace ductile::detail;

namespace {

struct recording_sink : stream_sink {
  std::vector<std::shared_ptr<const unique_fd>> made;
  stdio_target make() {
    pipe_ends ends;
    REQUIRE(!sys::make_pipe(ends));
    auto owner = std::make_shared<const unique_fd>(std::move(ends.write));
    made.push_back(owner);
    return stdio_target{owner->get(), owner};
  }
  stdio_target capture(stdio) override { return make(); }
  stdio_target tee(stdio, stdio_target) override { return make(); }
  stdio_target feed(std::shared_ptr<const std::string>) override { return make(); }
  stdio_target lines(stdio, line_function) override { return make(); }
  stdio_target caller_pipe() override { return make(); }
  void combine() override { ++combined; }
  stdio_target terminal(const std::optional<pty_size>&, stdio_target, stdio_target,
                        std::shared_ptr<terminal_slot>&) override {
    return make();
  }
  int combined = 0;
};

const process_launch& leaf(const job& j) {
  REQUIRE(j.type == job::kind::process);
  return *j.launch;
}

}  // namespace

TEST_CASE("lowering applies outer modifiers first so the innermost wins") {
  recording_sink sink;
  const auto e = cmd("a").dir("/inner").env("X", "inner").dir("/outer").env("X", "outer").env("Y", "outer");
  const auto plan = lower(*e.tree(), context{}, sink);
  const auto& launch = leaf(*plan);
  CHECK(launch.settings.dir == std::optional<std::string>("/inner"));
  REQUIRE(launch.settings.env);
  CHECK(launch.settings.env->at("X") == "inner");
  CHECK(launch.settings.env->at("Y") == "outer");
  CHECK(test::children().empty());
}

TEST_CASE("env_remove and full_env follow inner-wins too") {
  recording_sink sink;
  const auto removed = cmd("a").env_remove("X").env("X", "outer");
  CHECK(leaf(*lower(*removed.tree(), context{}, sink)).settings.env->count("X") == 0);
  const auto replaced = cmd("a").env("Y", "inner").full_env(std::map<std::string, std::string>{{"X", "1"}});
  const auto env = *leaf(*lower(*replaced.tree(), context{}, sink)).settings.env;
  CHECK(env == detail::environment{{"X", "1"}, {"Y", "inner"}});
  const auto unchanged = cmd("a");
  CHECK(!leaf(*lower(*unchanged.tree(), context{}, sink)).settings.env);
}

TEST_CASE("an overridden outer redirect still opens its file") {
  test::temp_dir tmp;
  recording_sink sink;
  const auto e = cmd("a").stdout_path((tmp / "inner").string()).stdout_path((tmp / "outer").string());
  const auto plan = lower(*e.tree(), context{}, sink);
  CHECK(std::filesystem::exists(tmp / "inner"));
  CHECK(std::filesystem::exists(tmp / "outer"));
  CHECK(leaf(*plan).settings.streams[1].owner);
}

TEST_CASE("stdout_to_stderr resolves against stderr at that point") {
  recording_sink sink;
  test::temp_dir tmp;
  const auto e = cmd("a").stdout_to_stderr().stderr_path((tmp / "err").string());
  const auto plan = lower(*e.tree(), context{}, sink);
  CHECK(leaf(*plan).settings.streams[1].fd == leaf(*plan).settings.streams[2].fd);
  const auto swapped = cmd("a").stdout_stderr_swap();
  const auto swapped_plan = lower(*swapped.tree(), context{}, sink);
  CHECK(leaf(*swapped_plan).settings.streams[1].fd == 2);
  CHECK(leaf(*swapped_plan).settings.streams[2].fd == 1);
}

TEST_CASE("a pipe connects left stdout to right stdin") {
  recording_sink sink;
  const auto e = cmd("a") | cmd("b");
  const auto plan = lower(*e.tree(), context{}, sink);
  REQUIRE(plan->type == job::kind::pipe);
  CHECK(leaf(*plan->left).settings.streams[1].owner);
  CHECK(leaf(*plan->right).settings.streams[0].owner);
  CHECK(leaf(*plan->left).settings.streams[0].fd == 0);
  CHECK(leaf(*plan->right).settings.streams[1].fd == 1);
}

TEST_CASE("the right side of then is not lowered until it runs") {
  test::temp_dir tmp;
  recording_sink sink;
  const auto e = cmd("a").then(cmd("b").stdout_path((tmp / "late").string()));
  const auto plan = lower(*e.tree(), context{}, sink);
  REQUIRE(plan->type == job::kind::then);
  CHECK(!plan->right);
  CHECK(plan->deferred);
  CHECK(!std::filesystem::exists(tmp / "late"));
}

TEST_CASE("a redirect that cannot be opened is a spawn_error naming the command") {
  recording_sink sink;
  const auto e = cmd("cat").stdin_path("/no/such/file");
  try {
    lower(*e.tree(), context{}, sink);
    FAIL("expected spawn_error");
  } catch (const spawn_error& error) {
    CHECK(error.step() == "open stdin");
    CHECK(error.code() == std::errc::no_such_file_or_directory);
    CHECK(std::string(error.what()).find("cat") != std::string::npos);
    CHECK(std::string(error.what()).find("/no/such/file") != std::string::npos);
  }
}

#ifndef _WIN32
TEST_CASE("pass_fd: the inner modifier for a number wins, and other numbers add up") {
  recording_sink sink;
  const auto e = cmd("a").pass_fd(5, 0).pass_fd(5, 1).pass_fd(7, 2);
  const auto plan = lower(*e.tree(), context{}, sink);
  const auto& passed = leaf(*plan).settings.passed;
  REQUIRE(passed.size() == 2);
  CHECK(passed[0].child_fd == 7);  // outer first
  CHECK(passed[1].child_fd == 5);
  // Each pass_fd holds its own duplicate: the inner one (of 0) is what 5 gets.
  struct stat inner_fd {
  }, zero{};
  REQUIRE(fstat(passed[1].source.fd, &inner_fd) == 0);
  REQUIRE(fstat(0, &zero) == 0);
  CHECK(inner_fd.st_ino == zero.st_ino);
  CHECK(inner_fd.st_dev == zero.st_dev);
}
#endif

TEST_CASE("combined_capture captures both streams and asks the run to interleave them") {
  recording_sink sink;
  const auto plan = lower(*cmd("a").stdout_null().combined_capture().tree(), context{}, sink);
  CHECK(sink.combined == 1);
  CHECK(sink.made.size() == 2);  // stdout's and stderr's captures
  CHECK(leaf(*plan).settings.streams[2].fd == sink.made[1]->get());
  CHECK(leaf(*plan).settings.streams[1].fd != sink.made[0]->get());  // the inner stdout_null() won
}

TEST_CASE("a command under launch settings runs alone; one that needs the run's streams, timers or scopes does not") {
  test::temp_dir tmp;
  CHECK(runs_alone(*cmd("a").tree()));
  CHECK(runs_alone(*cmd("a").dir("/").env("X", "1").env_remove("Y").stdout_null().stderr_to_stdout().tree()));
  CHECK(runs_alone(*cmd("a").stdin_path(tmp / "in").stdout_path(tmp / "out").unchecked().new_process_group().tree()));
  CHECK(runs_alone(*cmd("a").stdout_stderr_swap().kill_on_parent_exit().tree()));
  CHECK(!runs_alone(*cmd("a").stdout_capture().tree()));
  CHECK(!runs_alone(*cmd("a").stdin_bytes("x").tree()));
  CHECK(!runs_alone(*cmd("a").combined_capture().tree()));
  CHECK(!runs_alone(*cmd("a").timeout(std::chrono::seconds(1)).tree()));
  CHECK(!runs_alone(*cmd("a").ok_codes({0, 1}).tree()));
  CHECK(!runs_alone(*cmd("a").before_spawn([](spawn_spec&) {}).tree()));
  CHECK(!runs_alone(*(cmd("a") | cmd("b")).tree()));
  CHECK(!runs_alone(*cmd("a").then(cmd("b")).tree()));
  CHECK(!runs_alone(*cmd("a").own_cgroup().tree()));
  CHECK(test::children().empty());
}

TEST_CASE("lower_alone gives the launch lower() puts in the leaf") {
  test::temp_dir tmp;
  recording_sink sink;
  const auto e = cmd("a", "b")
                     .dir("/inner")
                     .env("X", "inner")
                     .stdout_path(tmp / "out")
                     .stderr_to_stdout()
                     .unchecked()
                     .env("X", "outer")
                     .env("Y", "outer")
                     .dir("/outer");
  REQUIRE(runs_alone(*e.tree()));
  bool checked = true;
  process_launch alone;
  lower_alone(*e.tree(), checked, alone);
  CHECK(!checked);
  const auto plan = lower(*e.tree(), context{}, sink);
  REQUIRE(plan->type == job::kind::unchecked);
  const process_launch& general = leaf(*plan->left);
  // Borrowed from the tree, not copied.
  CHECK(alone.borrowed_argv == &std::get<command_node>(alone.command->value).argv);
  CHECK(alone.arguments() == general.arguments());
  CHECK(alone.command == general.command);
  CHECK(alone.settings.dir == general.settings.dir);
  REQUIRE(alone.settings.env);
  CHECK(*alone.settings.env == *general.settings.env);
  // The outer stderr_to_stdout() came first, while stdout was still the
  // parent's (2>&1 >out): each lowering opened its own file for stdout.
  CHECK(alone.settings.streams[2].fd == 1);
  CHECK(general.settings.streams[2].fd == 1);
  CHECK(alone.settings.streams[1].fd > 2);
  CHECK(general.settings.streams[1].fd > 2);
  CHECK(alone.settings.streams[0].fd == 0);
  bool also_checked = false;
  process_launch plain;
  lower_alone(*cmd("a").tree(), also_checked, plain);
  CHECK(also_checked);
}
