// The Windows twin of behaviour/test_run.cpp: run(), read(), statuses, what
// is recorded of each process, inherited streams, dir, env and before_spawn,
// with helper.exe in place of sh and the POSIX tools.
#include <fcntl.h>
#include <io.h>

#include "windows_support.hpp"

using namespace ductile;
using test::win_helper;
namespace fs = std::filesystem;

TEST_CASE("run returns the status and what was captured") {
  const output out =
      win_helper("print", "out\\n").then(win_helper("err", "err\\n")).stdout_capture().stderr_capture().run();
  CHECK(out.status.success());
  CHECK(out.status.code() == exit_status::code_type{0});
  CHECK(out.stdout_bytes == "out\n");
  CHECK(out.stderr_bytes == "err\n");
}

TEST_CASE("read trims every trailing newline and carriage return, and nothing else") {
  CHECK(win_helper("print", "  hi there \\r\\n\\n\\r\\n").read() == "  hi there ");
  CHECK(win_helper("print", "a\\r\\nb\\r\\n").read() == "a\r\nb");
  CHECK(win_helper("exit", "0").read().empty());
}

TEST_CASE("a checked non-zero exit throws, unchecked reports it") {
  CHECK_THROWS_AS(win_helper("exit", "3").run(), status_error);
  const output out = win_helper("exit", "3").unchecked().run();
  CHECK(out.status.code() == exit_status::code_type{3});
  CHECK_FALSE(out.status.success());
  CHECK_FALSE(out.status.signal().has_value());
}

TEST_CASE("a process ended from outside reports the code it was ended with") {
  // TerminateProcess is Windows' kill: the code is the terminator's choice.
  auto h = win_helper("sleep", "60000").start();
  HANDLE process = OpenProcess(PROCESS_TERMINATE, FALSE, h.pids().at(0));
  REQUIRE(process != nullptr);
  TerminateProcess(process, 0xDEAD);
  CloseHandle(process);
  const auto error = test::expect_error<status_error>([&] { h.wait(); });
  CHECK(error.output().status.code() == exit_status::code_type{0xDEAD});
}

TEST_CASE("every process is recorded in pipeline order with its accounting") {
  const output out =
      (win_helper("bytes", "1000") | win_helper("cat").then(win_helper("exit", "0")) | win_helper("count"))
          .stdout_capture()
          .run();
  REQUIRE(out.processes.size() == 4);
  const std::string helper = test::windows_helper().string();
  for (const auto& p : out.processes) {
    CHECK(p.program == helper);
    CHECK(p.pid > 0);
    CHECK(p.status.success());
  }
  if (test::under_wine()) {
    MESSAGE("max_rss_kib not checked: Wine 8 reports the memory of an ended process only now and then");
  } else {
    for (const auto& p : out.processes) CHECK(p.max_rss_kib > 0);
  }
  CHECK(out.processes[0].pid != out.processes[3].pid);
  CHECK(out.stdout_bytes == "1000\n");
}

TEST_CASE("uncaptured streams are inherited from the parent") {
  test::temp_dir tmp;
  const auto file = tmp / "inherited";
  // This process's stdout becomes a file; its children inherit it.
  const int fd = _wopen(file.c_str(), _O_WRONLY | _O_CREAT | _O_TRUNC | _O_BINARY, 0644);
  REQUIRE(fd >= 0);
  std::fflush(stdout);
  const int saved = _dup(1);
  _dup2(fd, 1);
  win_helper("echo", "through").run();
  _dup2(saved, 1);
  _close(saved);
  _close(fd);
  CHECK(test::slurp(file) == "through\n");
}

TEST_CASE("dir sets the working directory of the children; the innermost wins") {
  test::temp_dir tmp;
  CHECK(fs::equivalent(win_helper("pwd").dir(tmp.path).read(), tmp.path));
  CHECK(fs::equivalent(win_helper("pwd").dir(tmp.path).dir("C:\\").read(), tmp.path));
}

TEST_CASE("env edits the environment snapshotted from the parent") {
  REQUIRE(SetEnvironmentVariableW(L"DUCTILE_TEST_VAR", L"from-parent"));
  CHECK(win_helper("env", "DUCTILE_TEST_VAR").read() == "from-parent");
  CHECK(win_helper("env", "DUCTILE_TEST_VAR").env("DUCTILE_TEST_VAR", "edited").read() == "edited");
  CHECK(win_helper("env", "DUCTILE_TEST_VAR").env_remove("DUCTILE_TEST_VAR").read() == "(unset)");
  CHECK(win_helper("env", "DUCTILE_TEST_VAR")
            .full_env(std::map<std::string, std::string>{{"SystemRoot", "C:\\windows"}})
            .read() == "(unset)");
  CHECK(win_helper("env", "A").env("A", "inner").env("A", "outer").read() == "inner");
  CHECK(win_helper("env", "A").env("a", "inner").env("A", "outer").read() == "inner");
  SetEnvironmentVariableW(L"DUCTILE_TEST_VAR", nullptr);
}

TEST_CASE("before_spawn hooks edit argv, env and dir, outer first") {
  test::temp_dir tmp;
  std::vector<std::string> order;
  const auto e = win_helper("argv", "a")
                     .before_spawn([&](spawn_spec& spec) {
                       order.push_back("inner");
                       spec.argv.push_back(spec.env.at("ADDED"));
                     })
                     .before_spawn([&](spawn_spec& spec) {
                       order.push_back("outer");
                       spec.env["ADDED"] = "from-hook";
                     });
  CHECK(test::split_nul(e.read()) == std::vector<std::string>{"a", "from-hook"});
  CHECK(order == std::vector<std::string>{"outer", "inner"});
  const auto moved = win_helper("pwd").before_spawn([&](spawn_spec& spec) { spec.dir = tmp.path.string(); });
  CHECK(fs::equivalent(moved.read(), tmp.path));
}

TEST_CASE("a lone command gives the same result and errors on the short path as through the general run") {
  test::temp_dir tmp;
  const std::vector<expression> cases = {
      win_helper("exit", "0"),
      win_helper("exit", "3"),
      win_helper("exit", "3").unchecked(),
      win_helper("crash"),
      cmd("C:\\no\\such\\program.exe"),
      cmd("no-such-program-anywhere"),
      win_helper("exit", "0").dir(tmp / "missing"),
      win_helper("env", "X").dir(tmp.path).env("X", "value").stdout_path(tmp / "out"),
      win_helper("err", "to-stderr\\n")
          .then(win_helper("exit", "4"))
          .stderr_to_stdout()
          .stdout_path(tmp / "both")
          .unchecked(),
      win_helper("cat").stdin_path(tmp / "missing-input"),
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
    }
  }
  CHECK(test::slurp(tmp / "out") == "value\n");
  CHECK(test::slurp(tmp / "both") == "to-stderr\n");
  CHECK(test::children().empty());
}
