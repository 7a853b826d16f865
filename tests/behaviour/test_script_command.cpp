// ductile-script: C++ files that run like shell scripts, tested as a user
// runs them (a shebang, chmod +x) with a cache of their own.
#include <sys/stat.h>

#include "support.hpp"

using namespace ductile;
using namespace std::chrono_literals;

namespace {

const std::string tool = DUCTILE_SCRIPT_COMMAND;

bool have_tool() {
  if (tool.empty()) MESSAGE("skipped: the single-header build makes no ductile-script");
  return !tool.empty();
}

// A script file, executable, its first line the shebang.
test::fs::path write_script(const test::fs::path& dir, const std::string& name, const std::string& body) {
  const auto path = dir / name;
  test::write_file(path, "#!/usr/bin/env ductile-script\n" + body);
  ::chmod(path.c_str(), 0755);
  return path;
}

// Runs with ductile-script on PATH and a cache under `home`.
expression in_env(expression e, const test::fs::path& home) {
  const std::string path = test::fs::path(tool).parent_path().string() + ":" + std::getenv("PATH");
  return e.env("PATH", path).env("XDG_CACHE_HOME", (home / "cache").string()).env("HOME", home.string());
}

// The cached binaries: regular files named by 16 hex digits.
std::size_t cache_entries(const test::fs::path& home) {
  std::size_t count = 0;
  std::error_code ignored;
  for (const auto& entry : test::fs::directory_iterator(home / "cache" / "ductile-script", ignored))
    if (entry.is_regular_file() && entry.path().filename().string().size() == 16) ++count;
  return count;
}

const char* const echo_arguments = R"(#include <ductile/ductile.hpp>
#include <cstdio>
#include <cstdlib>
int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) std::printf("[%s]\n", argv[i]);
  if (const char* code = std::getenv("EXIT_WITH")) return std::atoi(code);
  return 0;
}
)";

}  // namespace

TEST_CASE("ductile-script: a shebang script gets its arguments, stdin and environment exactly, and its status") {
  if (!have_tool()) return;
  test::leak_check check;
  test::temp_dir home;
  const auto script = write_script(home.path, "args.cpp", echo_arguments);
  const output o = in_env(cmd(script, "a", "b c", "", "*"), home.path).stdout_capture().run();
  CHECK(o.stdout_bytes == "[a]\n[b c]\n[]\n[*]\n");
  CHECK(in_env(cmd(script), home.path).env("EXIT_WITH", "7").unchecked().run().status.code() == 7);
  // Without a shebang, through the command itself; stdin reaches the script.
  test::write_file(home / "cat.cpp", R"(#include <ductile/ductile.hpp>
int main() { return ductile::script_main([] { ductile::cmd("cat").run(); }); }
)");
  CHECK(in_env(cmd(tool, (home / "cat.cpp").string()), home.path).stdin_bytes("typed\n").read() == "typed");
  // A signal that kills the script is what its caller sees.
  const auto killer =
      write_script(home.path, "killer.cpp", "#include <csignal>\nint main() { std::raise(SIGTERM); }\n");
  CHECK(in_env(cmd(killer), home.path).unchecked().run().status.signal() == SIGTERM);
}

TEST_CASE("ductile-script: an edit rebuilds, an unchanged script runs from the cache") {
  if (!have_tool()) return;
  test::leak_check check;
  test::temp_dir home;
  const auto script = write_script(home.path, "greet.cpp", "#include <cstdio>\nint main() { std::puts(\"one\"); }\n");
  CHECK(in_env(cmd(script), home.path).read() == "one");
  CHECK(cache_entries(home.path) == 1);
  CHECK(in_env(cmd(script), home.path).read() == "one");
  CHECK(cache_entries(home.path) == 1);
  test::write_file(script, "#!/usr/bin/env ductile-script\n#include <cstdio>\nint main() { std::puts(\"two\"); }\n");
  CHECK(in_env(cmd(script), home.path).read() == "two");
  CHECK(cache_entries(home.path) == 2);
  // The cache is private to its user.
  struct stat st {};
  REQUIRE(::stat((home / "cache" / "ductile-script").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
}

TEST_CASE("ductile-script: two first runs at once both succeed and leave one entry") {
  if (!have_tool()) return;
  test::leak_check check;
  test::temp_dir home;
  const auto script = write_script(home.path, "args.cpp", echo_arguments);
  handle first = in_env(cmd(script, "first"), home.path).stdout_capture().start();
  handle second = in_env(cmd(script, "second"), home.path).stdout_capture().start();
  CHECK(first.wait().stdout_bytes == "[first]\n");
  CHECK(second.wait().stdout_bytes == "[second]\n");
  CHECK(cache_entries(home.path) == 1);
}

TEST_CASE("ductile-script: an unusable home falls back to a private temporary cache, with a warning") {
  if (!have_tool()) return;
  test::leak_check check;
  test::temp_dir home;
  const auto script = write_script(home.path, "args.cpp", echo_arguments);
  // The innermost modifiers win: these override in_env's.
  const output o = in_env(cmd(script, "x")
                              .env_remove("XDG_CACHE_HOME")
                              .env("HOME", "/nonexistent/home")
                              .env("TMPDIR", home.path.string()),
                          home.path)
                       .stdout_capture()
                       .stderr_capture()
                       .run();
  CHECK(o.stdout_bytes == "[x]\n");
  CHECK(o.stderr_bytes.find("ductile-script: the home directory /nonexistent/home does not exist") == 0);
  CHECK(o.stderr_bytes.find("using the private cache " + (home / "ductile-script-").string()) != std::string::npos);
  CHECK_FALSE(test::fs::exists("/nonexistent/home"));
  // A home that is there but cannot hold the cache (a file where .cache should be).
  test::write_file(home / ".cache", "not a directory");
  // (A fresh TMPDIR: the warning comes with the compile, not with every cached run.)
  test::fs::create_directory(home / "tmp");
  const output again =
      in_env(cmd(script, "y").env_remove("XDG_CACHE_HOME").env("TMPDIR", (home / "tmp").string()), home.path)
          .stdout_capture()
          .stderr_capture()
          .run();
  CHECK(again.stdout_bytes == "[y]\n");
  CHECK(again.stderr_bytes.find("ductile-script: cannot make " + (home / ".cache" / "ductile-script").string() +
                                ": Not a directory") == 0);
}

TEST_CASE("ductile-script: compile errors name the script's own lines; //! lines carry options") {
  if (!have_tool()) return;
  test::leak_check check;
  test::temp_dir home;
  const auto broken = write_script(home.path, "broken.cpp", "int main() {\n  return undefined_name;\n}\n");
  const output o = in_env(cmd(broken), home.path).stderr_capture().unchecked().run();
  CHECK(o.status.code() == 1);
  CHECK(o.stderr_bytes.find(broken.string() + ":3:") != std::string::npos);
  CHECK(cache_entries(home.path) == 0);

  const auto options = write_script(home.path, "options.cpp",
                                    "//! flags: -DANSWER=42\n//! link: -lm\n#include <cmath>\n#include <cstdio>\n"
                                    "int main() { std::printf(\"%d %.0f\\n\", ANSWER, std::sqrt(81.0)); }\n");
  CHECK(in_env(cmd(options), home.path).read() == "42 9");
  const std::string command = in_env(cmd(tool, "--print-command", options.string()), home.path).read();
  CHECK(command.find("-DANSWER=42") != std::string::npos);
  CHECK(command.find("-lductile -lfmt -lm") != std::string::npos);
}

TEST_CASE("ductile-script: the example scripts run as files") {
  if (!have_tool()) return;
  test::leak_check check;
  test::temp_dir home;
  const test::fs::path examples = DUCTILE_EXAMPLES;
  const std::string summary = in_env(cmd(examples / "log_summary.cpp", examples / "access.log"), home.path).read();
  CHECK(summary.find("clients with the most server errors in ") == 0);
  CHECK(summary.find("server errors in all (pipeline: grep ") != std::string::npos);
  test::write_file(home / "quiet.log", "10.0.0.1 - - [26/Nov/2026:10:00:01] \"GET / HTTP/1.1\" 200 512\n");
  CHECK(in_env(cmd(examples / "log_summary.cpp", home / "quiet.log"), home.path).read() ==
        "no server errors in " + (home / "quiet.log").string());
  // A missing log: grep's 2 is an error, with grep's status.
  CHECK(in_env(cmd(examples / "log_summary.cpp", home / "none.log"), home.path)
            .stderr_null()
            .unchecked()
            .run()
            .status.code() == 2);

  const std::string streamed = in_env(cmd(examples / "stream_lines.cpp"), home.path).read();
  CHECK(streamed.find("] fetch...\n") != std::string::npos);
  CHECK(streamed.find("] test...") != std::string::npos);
  const output failed =
      in_env(cmd(examples / "stream_lines.cpp", "sh", "-c", "echo going; echo broke >&2; exit 4"), home.path)
          .stdout_capture()
          .stderr_capture()
          .unchecked()
          .run();
  CHECK(failed.status.code() == 4);
  CHECK(failed.stdout_bytes.find("] going\n") != std::string::npos);
  CHECK(failed.stderr_bytes.find("broke") != std::string::npos);

  if (!which("git")) {
    MESSAGE("skipped release_tag: no git on PATH");
    return;
  }
  const auto repository = home / "repository";
  test::fs::create_directory(repository);
  const auto git = [&](auto... args) {
    return cmd("git", "-C", repository, args...)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.org")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.org")
        .stdout_null();
  };
  git("init", "-q").run();
  test::write_file(repository / "a", "a\n");
  git("add", "a").then(git("commit", "-q", "-m", "first")).run();
  const auto release = [&](auto... args) {
    return in_env(cmd(examples / "release_tag.cpp", args..., repository), home.path)
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.org");
  };
  CHECK(release().read().find("latest tag: (none)\nnext tag:   v0.0.1 at ") == 0);
  CHECK(release("--apply").read().find("tagged v0.0.1") != std::string::npos);
  CHECK(release().read().find("latest tag: v0.0.1\nnext tag:   v0.0.2") == 0);
  test::write_file(repository / "a", "changed\n");
  const output dirty = release().stderr_capture().unchecked().run();
  CHECK(dirty.status.code() == 1);
  CHECK(dirty.stderr_bytes.find("uncommitted changes") != std::string::npos);
}
