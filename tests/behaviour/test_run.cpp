#include <fcntl.h>

#include "support.hpp"

using namespace ductile;
using test::helper;

TEST_CASE("run returns the status and what was captured") {
  test::leak_check check;
  const output out = sh("echo out; echo err >&2").stdout_capture().stderr_capture().run();
  CHECK(out.status.success());
  CHECK(out.status.code() == 0);
  CHECK(out.stdout_bytes == "out\n");
  CHECK(out.stderr_bytes == "err\n");
}

TEST_CASE("read trims every trailing newline and carriage return, and nothing else") {
  test::leak_check check;
  CHECK(sh("printf '  hi there \\r\\n\\n\\r\\n'").read() == "  hi there ");
  CHECK(sh("printf 'a\\nb\\n'").read() == "a\nb");
  CHECK(cmd("true").read().empty());
}

TEST_CASE("a checked non-zero exit throws, unchecked reports it") {
  test::leak_check check;
  CHECK_THROWS_AS(sh("exit 3").run(), status_error);
  const output out = sh("exit 3").unchecked().run();
  CHECK(out.status.code() == 3);
  CHECK(!out.status.success());
  CHECK(out.status.raw() == (3 << 8));
}

TEST_CASE("a process killed by a signal reports the signal") {
  test::leak_check check;
  const output out = sh("kill -TERM $$").unchecked().run();
  CHECK(out.status.signal() == SIGTERM);
  CHECK(!out.status.code());
}

TEST_CASE("every process is recorded in pipeline order with its accounting") {
  test::leak_check check;
  const output out =
      (helper("write_bytes", 1000) | cmd("cat").then(cmd("true")) | cmd("wc", "-c")).stdout_capture().run();
  REQUIRE(out.processes.size() == 4);
  CHECK(out.processes[0].program.find("write_bytes") != std::string::npos);
  CHECK(out.processes[1].program == "cat");
  CHECK(out.processes[2].program == "true");
  CHECK(out.processes[3].program == "wc");
  for (const auto& p : out.processes) {
    CHECK(p.pid > 0);
    CHECK(p.status.success());
    CHECK(p.max_rss_kib > 0);
  }
  CHECK(out.stdout_bytes == "1000\n");
}

TEST_CASE("uncaptured streams are inherited from the parent") {
  test::leak_check check;
  test::temp_dir tmp;
  const auto file = tmp / "inherited";
  // Run a child of ours whose stdout is a file; its own children inherit it.
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  REQUIRE(fd >= 0);
  const int saved = ::dup(1);
  ::dup2(fd, 1);
  cmd("echo", "through").run();
  ::dup2(saved, 1);
  ::close(saved);
  ::close(fd);
  CHECK(test::slurp(file) == "through\n");
}

TEST_CASE("dir sets the working directory of the children") {
  test::leak_check check;
  test::temp_dir tmp;
  const auto real = std::filesystem::canonical(tmp.path);
  CHECK(cmd("pwd").dir(tmp.path).read() == real.string());
  CHECK(cmd("pwd").dir(tmp.path).dir("/").read() == real.string());
}

TEST_CASE("env edits the environment snapshotted from the parent") {
  test::leak_check check;
  ::setenv("DUCTILE_TEST_VAR", "from-parent", 1);
  CHECK(sh("echo $DUCTILE_TEST_VAR").read() == "from-parent");
  CHECK(sh("echo $DUCTILE_TEST_VAR").env("DUCTILE_TEST_VAR", "edited").read() == "edited");
  CHECK(sh("echo ${DUCTILE_TEST_VAR-unset}").env_remove("DUCTILE_TEST_VAR").read() == "unset");
  CHECK(sh("echo ${DUCTILE_TEST_VAR-unset}")
            .full_env(std::map<std::string, std::string>{{"PATH", "/usr/bin:/bin"}})
            .read() == "unset");
  CHECK(sh("echo $A").env("A", "inner").env("A", "outer").read() == "inner");
  ::unsetenv("DUCTILE_TEST_VAR");
}

TEST_CASE("before_spawn hooks edit argv, env and dir, outer first") {
  test::leak_check check;
  std::vector<std::string> order;
  const auto e = helper("echo_args", "a")
                     .before_spawn([&](spawn_spec& spec) {
                       order.push_back("inner");
                       spec.argv.push_back(spec.env.at("ADDED"));
                     })
                     .before_spawn([&](spawn_spec& spec) {
                       order.push_back("outer");
                       spec.env["ADDED"] = "from-hook";
                     });
  CHECK(e.read() == "1:a\n9:from-hook");
  CHECK(order == std::vector<std::string>{"outer", "inner"});
}

TEST_CASE("a lone command gives the same result and errors on the short path as through the general run") {
  test::leak_check check;
  test::temp_dir tmp;
  const std::vector<expression> cases = {
      cmd("true"),
      sh("exit 3"),
      sh("exit 3").unchecked(),
      sh("kill -TERM $$"),
      sh("kill -TERM $$").unchecked(),
      cmd("/no/such/program"),
      cmd("no-such-program-anywhere"),
      cmd("true").dir(tmp / "missing"),
      sh("echo \"$X\" > out; pwd >> out").dir(tmp.path).env("X", "value"),
      sh("echo to-stderr >&2; exit 4").stderr_to_stdout().stdout_path(tmp / "both").unchecked(),
      cmd("cat").stdin_path(tmp / "missing-input"),
  };
  for (const auto& e : cases) {
    CAPTURE(to_string(e));
    const auto general = test::run_through(e, true);
    const auto alone = test::run_through(e, false);
    CHECK(alone.kind == general.kind);
    CHECK(alone.message == general.message);
    CHECK(alone.command == general.command);
    CHECK(alone.step == general.step);
    CHECK(alone.result.status == general.result.status);
    REQUIRE(alone.result.processes.size() == general.result.processes.size());
    for (std::size_t i = 0; i < alone.result.processes.size(); ++i) {
      CHECK(alone.result.processes[i].program == general.result.processes[i].program);
      CHECK(alone.result.processes[i].status == general.result.processes[i].status);
      CHECK(alone.result.processes[i].pid > 0);
      CHECK(alone.result.processes[i].pid != general.result.processes[i].pid);
    }
  }
  CHECK(test::slurp(tmp / "out") == "value\n" + tmp.path.string() + "\n");
  CHECK(test::slurp(tmp / "both") == "to-stderr\n");
}

namespace {
// Puts PATH back however the test ends.
class path_restored {
 public:
  path_restored() : had_(std::getenv("PATH") != nullptr), saved_(had_ ? std::getenv("PATH") : "") {}
  ~path_restored() {
    if (had_)
      setenv("PATH", saved_.c_str(), 1);
    else
      unsetenv("PATH");
  }
  path_restored(const path_restored&) = delete;
  path_restored& operator=(const path_restored&) = delete;

 private:
  bool had_;
  std::string saved_;
};
}  // namespace

TEST_CASE("a name is looked up in the PATH the process has when it runs: changed, or unset for /bin:/usr/bin") {
  test::leak_check check;
  test::temp_dir tmp;
  std::filesystem::create_directories(tmp / "bin");
  test::write_file(tmp / "bin" / "tool", "#!/bin/sh\necho tool > \"$1\"\n");
  std::filesystem::permissions(tmp / "bin" / "tool", std::filesystem::perms::owner_all);
  const path_restored restore;

  setenv("PATH", ("/nowhere:" + (tmp / "bin").string()).c_str(), 1);
  for (const bool general : {false, true}) {
    CAPTURE(general);
    std::filesystem::remove(tmp / "out");
    CHECK(test::run_through(cmd("tool", (tmp / "out").string()), general).kind == "ok");
    CHECK(test::slurp(tmp / "out") == "tool\n");
  }

  // No PATH at all: execvp's default, which holds true but not the tool.
  unsetenv("PATH");
  for (const bool general : {false, true}) {
    CAPTURE(general);
    CHECK(test::run_through(cmd("true"), general).kind == "ok");
    const auto missing = test::run_through(cmd("tool", (tmp / "out").string()), general);
    CHECK(missing.kind == "spawn_error");
    CHECK(missing.message.find("not found in PATH") != std::string::npos);
  }
}
