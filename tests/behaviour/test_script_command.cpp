// ductile-script: C++ files that run like shell scripts, tested as a user
// runs them (a shebang, chmod +x) with a cache of their own.
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <thread>

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
                              .env_remove("XDG_RUNTIME_DIR")
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
  const output again = in_env(cmd(script, "y")
                                  .env_remove("XDG_CACHE_HOME")
                                  .env_remove("XDG_RUNTIME_DIR")
                                  .env("TMPDIR", (home / "tmp").string()),
                              home.path)
                           .stdout_capture()
                           .stderr_capture()
                           .run();
  CHECK(again.stdout_bytes == "[y]\n");
  CHECK(again.stderr_bytes.find("ductile-script: cannot make " + (home / ".cache" / "ductile-script").string() +
                                ": Not a directory") == 0);
}

namespace {

// A script run with no usable home, its fallback cache under `tmp` (a sticky,
// world-writable directory like /tmp).
output run_without_home(const test::fs::path& script, const test::fs::path& home, const test::fs::path& tmp) {
  return in_env(cmd(script, "x")
                    .env_remove("XDG_CACHE_HOME")
                    .env_remove("XDG_RUNTIME_DIR")
                    .env("HOME", "/nonexistent/home")
                    .env("TMPDIR", tmp.string()),
                home)
      .stdout_capture()
      .stderr_capture()
      .unchecked()
      .run();
}

std::vector<std::string> names_in(const test::fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : test::fs::directory_iterator(dir)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

constexpr uid_t other_user = 65534;  // nobody: a real second user on every Debian system

}  // namespace

TEST_CASE("round 3 defect 1: a squatted cache name is never followed or used; a one-use cache is removed") {
  if (!have_tool()) return;
  if (::geteuid() != 0) {
    MESSAGE("skipped: needs root, to give the squatted names to a second user");
    return;
  }
  test::leak_check check;
  test::temp_dir home;
  const auto script = write_script(home.path, "args.cpp", echo_arguments);
  const auto tmp = home / "tmp";
  test::fs::create_directory(tmp);
  ::chmod(tmp.c_str(), 01777);
  const auto squatted = tmp / ("ductile-script-" + std::to_string(::geteuid()));

  // The other user's link to a directory the victim owns and keeps private:
  // following it, the check would pass and the other user could swap the link.
  const auto victims = home / "victims";
  test::fs::create_directory(victims);
  ::chmod(victims.c_str(), 0700);
  REQUIRE(::symlink(victims.c_str(), squatted.c_str()) == 0);
  REQUIRE(::lchown(squatted.c_str(), other_user, other_user) == 0);
  output o = run_without_home(script, home.path, tmp);
  CHECK(o.stdout_bytes == "[x]\n");
  CHECK(o.stderr_bytes.find(squatted.string() + " is a symbolic link") != std::string::npos);
  CHECK(o.stderr_bytes.find("using the one-use cache " + (tmp / "ductile-script-").string()) != std::string::npos);
  CHECK(names_in(victims).empty());
  CHECK(names_in(tmp) == std::vector<std::string>{squatted.filename().string()});

  // The same link swapped back and forth between the victim's directory and
  // the other user's while the script compiles: nothing lands in either.
  const auto others = home / "others";
  test::fs::create_directory(others);
  ::chmod(others.c_str(), 0777);
  std::atomic<bool> swapping{true};
  std::thread swapper([&] {
    const auto next = tmp / "next";
    for (int i = 0; swapping; ++i) {
      ::unlink(next.c_str());
      if (::symlink((i % 2 == 0 ? others : victims).c_str(), next.c_str()) == 0)
        ::rename(next.c_str(), squatted.c_str());
    }
  });
  o = run_without_home(script, home.path, tmp);
  swapping = false;
  swapper.join();
  CHECK(o.stdout_bytes == "[x]\n");
  CHECK(names_in(victims).empty());
  CHECK(names_in(others).empty());
  CHECK(names_in(tmp) == std::vector<std::string>{squatted.filename().string()});

  // A directory of the other user's own under the name.
  REQUIRE(::unlink(squatted.c_str()) == 0);
  test::fs::create_directory(squatted);
  REQUIRE(::chown(squatted.c_str(), other_user, other_user) == 0);
  o = run_without_home(script, home.path, tmp);
  CHECK(o.stdout_bytes == "[x]\n");
  CHECK(o.stderr_bytes.find(squatted.string() + " belongs to uid 65534, not to this user") != std::string::npos);
  CHECK(names_in(squatted).empty());
  CHECK(names_in(tmp) == std::vector<std::string>{squatted.filename().string()});

  // XDG_RUNTIME_DIR, where there is one, comes before the shared directory.
  const auto runtime = home / "runtime";
  test::fs::create_directory(runtime);
  ::chmod(runtime.c_str(), 0700);
  o = in_env(cmd(script, "x")
                 .env_remove("XDG_CACHE_HOME")
                 .env("XDG_RUNTIME_DIR", runtime.string())
                 .env("HOME", "/nonexistent/home")
                 .env("TMPDIR", tmp.string()),
             home.path)
          .stdout_capture()
          .stderr_capture()
          .run();
  CHECK(o.stdout_bytes == "[x]\n");
  CHECK(o.stderr_bytes.find("using the private cache " + (runtime / "ductile-script").string()) != std::string::npos);
  CHECK(names_in(tmp) == std::vector<std::string>{squatted.filename().string()});
}

TEST_CASE("round 3 defect 1: a cache entry that is a link, another user's or writable by others is never run") {
  if (!have_tool()) return;
  test::leak_check check;
  test::temp_dir home;
  const auto script = write_script(home.path, "args.cpp", echo_arguments);
  CHECK(in_env(cmd(script, "x"), home.path).read() == "[x]");
  const auto cache = home / "cache" / "ductile-script";
  std::string entry;
  for (const auto& name : names_in(cache))
    if (name.size() == 16) entry = name;
  REQUIRE(!entry.empty());
  const auto planted = home / "planted";
  test::write_file(planted, "#!/bin/sh\necho planted\n");
  ::chmod(planted.c_str(), 0755);

  // A link in place of the entry.
  REQUIRE(::unlink((cache / entry).c_str()) == 0);
  REQUIRE(::symlink(planted.c_str(), (cache / entry).c_str()) == 0);
  CHECK(in_env(cmd(script, "x"), home.path).read() == "[x]");
  CHECK_FALSE(test::fs::is_symlink(cache / entry));

  // A file that others may write.
  test::fs::copy_file(planted, cache / entry, test::fs::copy_options::overwrite_existing);
  ::chmod((cache / entry).c_str(), 0777);
  CHECK(in_env(cmd(script, "x"), home.path).read() == "[x]");

  if (::geteuid() != 0) {
    MESSAGE("skipped an entry of another user's: needs root, to give it away");
    return;
  }
  test::fs::copy_file(planted, cache / entry, test::fs::copy_options::overwrite_existing);
  ::chmod((cache / entry).c_str(), 0755);
  REQUIRE(::chown((cache / entry).c_str(), other_user, other_user) == 0);
  CHECK(in_env(cmd(script, "x"), home.path).read() == "[x]");
}

TEST_CASE("round 3 defects 15 and 16: a quote, a backslash or a newline in the name; $0 is the path as invoked") {
  if (!have_tool()) return;
  test::leak_check check;
  test::temp_dir home;
  const std::string says_name = R"(#include <cstdio>
int main(int, char** argv) { std::printf("%s\n", argv[0]); }
)";
  for (const std::string name : {"say\"hi.cpp", "back\\slash.cpp", "new\nline.cpp"}) {
    CAPTURE(name);
    const auto script = write_script(home.path, name, says_name);
    CHECK(in_env(cmd(script), home.path).read() == script.string());
    const auto broken = write_script(home.path, "broken-" + name, "int main() {\n  return undefined_name;\n}\n");
    const output o = in_env(cmd(broken), home.path).stderr_capture().unchecked().run();
    CHECK(o.status.code() == 1);
    CHECK(o.stderr_bytes.find("undefined_name") != std::string::npos);
  }
  // A multi-call script sees the name of the link it was run through.
  const auto script = write_script(home.path, "hello.cpp", says_name);
  const auto link = home / "mytool";
  REQUIRE(::symlink(script.c_str(), link.c_str()) == 0);
  CHECK(in_env(cmd(link), home.path).read() == link.string());
  CHECK(in_env(cmd(tool, "mytool"), home.path).dir(home.path).read() == "mytool");
}

TEST_CASE("round 3 defect 17: --help and --version") {
  if (!have_tool()) return;
  const output help = cmd(tool, "--help").stdout_capture().run();
  CHECK(help.stdout_bytes.find("usage: ductile-script [--print-command] FILE.cpp [ARGS...]") == 0);
  CHECK(help.stdout_bytes.find("--version") != std::string::npos);
  CHECK(cmd(tool, "--version").read().find("ductile-script ") == 0);
  const output unknown = cmd(tool, "--frobnicate").stderr_capture().unchecked().run();
  CHECK(unknown.status.code() == 2);
  CHECK(unknown.stderr_bytes.find("unknown option --frobnicate") != std::string::npos);
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
  CHECK(command.find("/libductile.") != std::string::npos);  // the build tree's own library file
  CHECK(command.find(" -lfmt -lm") != std::string::npos);
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
