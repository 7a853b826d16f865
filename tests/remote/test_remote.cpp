// on(host) against a real OpenSSH server on 127.0.0.1 (tests/remote/ssh_server.hpp).
// The far side is this machine, so what runs there can be compared with the
// same expression run here, and its processes can be found in /proc.

#include <dirent.h>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <ductile/ductile.hpp>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

#include "remote/random_trees.hpp"
#include "remote/ssh_server.hpp"
#include "support.hpp"

using namespace ductile;
using namespace test;
using remote_test::ssh_server;

namespace {

// The server, started once for the suite; nullptr (and a message) where none can run.
ssh_server* server() {
  static std::optional<std::string> missing = remote_test::why_no_server();
  if (missing) {
    MESSAGE("skipped: " << *missing);
    return nullptr;
  }
  static ssh_server made;
  return &made;
}

}  // namespace

TEST_CASE("a remote command's output, status and streams are those of the same command run here") {
  auto* s = server();
  if (!s) return;
  const auto h = s->host();
  CHECK(cmd("echo", "hi").on(h).read() == "hi");
  // The remote argv is the local one, byte for byte.
  const std::vector<std::string> args{"",         "two words",   "it's", "\"quoted\"", "line\nbreak",        "$HOME",
                                      "`id`",     "back\\slash", "*",    "-n",         "\xff\xfe not UTF-8", "a=b",
                                      "tab\there"};
  const auto print_args = cmd(helper_path("echo_args"), args);
  CHECK(print_args.on(h).read() == print_args.read());
  // Shell words are programs there too, as here: env runs them.
  CHECK(cmd("echo", "-e", "a\\tb").on(h).read() == cmd("echo", "-e", "a\\tb").read());
  CHECK(cmd("true").on(h).run().status.success());
  const std::string big(3 << 20, 'x');
  CHECK(cmd("wc", "-c").on(h).stdin_bytes(big).read() == std::to_string(big.size()));
  CHECK(cmd("cat").on(h).stdin_bytes(big).read() == big);
  const auto both = cmd("sh", "-c", "echo out; echo err >&2").on(h).stdout_capture().stderr_capture().run();
  CHECK(both.stdout_bytes == "out\n");
  CHECK(both.stderr_bytes == "err\n");
  // A capture written inside on() applies to the ssh process.
  CHECK(cmd("echo", "inside").stdout_capture().on(h).run().stdout_bytes == "inside\n");
  std::vector<std::string> lines;
  for (const auto& line : cmd("seq", "3").on(h).lines()) lines.emplace_back(line);
  CHECK(lines == std::vector<std::string>{"1", "2", "3"});
}

TEST_CASE("remote subtrees compose with local processes and with each other") {
  auto* s = server();
  if (!s) return;
  const auto h = s->host();
  CHECK((cmd("seq", "1", "1000") | cmd("grep", "7").on(h) | cmd("wc", "-l")).read() == "271");
  temp_dir dir;
  fs::create_directories(dir / "src/sub");
  write_file(dir / "src/sub/file", std::string(100000, 'z'));
  fs::create_directories(dir / "dst");
  (cmd("tar", "cf", "-", "-C", dir / "src", ".").on(h) | cmd("tar", "xf", "-", "-C", dir / "dst").on(h)).run();
  CHECK(slurp(dir / "dst/sub/file") == std::string(100000, 'z'));
  // A tee around it keeps a copy and passes the bytes on, as for any process.
  const auto teed = (cmd("echo", "tee").on(h).stdout_tee() | cmd("cat")).stdout_capture().run();
  CHECK(teed.stdout_bytes == (cmd("echo", "tee").stdout_tee() | cmd("cat")).stdout_capture().run().stdout_bytes);
}

TEST_CASE(
    "pipes, then, dir, env, unchecked, ok_codes, redirects and timeouts happen on the far side by the same rules") {
  auto* s = server();
  if (!s) return;
  const auto h = s->host();
  temp_dir dir;
  // Each expression gives the same output and the same verdict there and here.
  const std::vector<expression> cases{
      cmd("printf", "a\\nb\\nc\\n") | cmd("wc", "-l"),
      cmd("false").unchecked().then(cmd("echo", "after")),
      cmd("sh", "-c", "exit 3").ok_codes({3}).then(cmd("echo", "accepted")),
      cmd("true").ok_codes({1}).then(cmd("echo", "never")).unchecked().then(cmd("echo", "zero was refused")),
      cmd("pwd").dir("/tmp"),
      cmd("sh", "-c", "echo ${A-unset} ${B-unset}").env_remove("B").env("A", "1").env("B", "2"),
      cmd("env").full_env(std::map<std::string, std::string>{{"ONLY", "this"}}),
      cmd("sh", "-c", "echo to stderr >&2").stderr_to_stdout(),
      cmd("sh", "-c", "echo one; echo two >&2").stdout_stderr_swap().stderr_null(),
      (cmd("yes") | cmd("head", "-n", "2")),
      (cmd("sh", "-c", "exit 5") | cmd("cat")).unchecked().then(cmd("echo", "left failed")),
      cmd("echo", "to file").stdout_path(dir / "out").then(cmd("cat", dir / "out")),
      cmd("cat").stdin_path(dir / "out"),
      cmd("sleep", "5").timeout(std::chrono::milliseconds(200)).unchecked().then(cmd("echo", "timed out")),
  };
  for (const auto& e : cases) {
    CAPTURE(to_string(e));
    CHECK(e.on(h).unchecked().read() == e.unchecked().read());
  }
  // Failures fail the same way; a failing left side of a pipe counts.
  for (const auto& e : {cmd("false") | cmd("true"), cmd("false").then(cmd("true")), cmd("true").ok_codes({1}),
                        cmd("sh", "-c", "exit 9")}) {
    CAPTURE(to_string(e));
    CHECK_THROWS_AS(e.on(h).run(), status_error);
  }
  cmd("echo", "appended").stdout_append(dir / "out").on(h).run();
  CHECK(slurp(dir / "out") == "to file\nappended\n");
  CHECK(cmd("sh", "-c", "exit 3").unchecked().on(h).run().status.code() == 3);
  CHECK(cmd("sh", "-c", "exit 4").on(h).unchecked().run().status.code() == 4);
  // A remote timeout: GNU timeout's 124, and the sleep is gone.
  try {
    cmd("sleep", "981.5").timeout(std::chrono::milliseconds(300)).on(h).run();
    FAIL("no exception");
  } catch (const status_error& e) {
    CHECK(e.output().status.code() == 143);
    CHECK(std::string(e.what()).find("exit code 143") != std::string::npos);
  }
  CHECK(sleeping_processes("981.5") == 0);
}

TEST_CASE("the remote code is the status, 255 included; ssh's own failures are spawn_errors naming the host") {
  auto* s = server();
  if (!s) return;
  const auto h = s->host();
  try {
    cmd("sh", "-c", "echo partial; exit 255").on(h).stdout_capture().run();
    FAIL("no exception");
  } catch (const status_error& e) {
    CHECK(e.output().status.code() == 255);
    CHECK(e.output().stdout_bytes == "partial\n");
  }
  auto refused = s->options();
  refused.port = test::free_local_port();
  try {
    cmd("true").on(remote::host(refused)).run();
    FAIL("no exception");
  } catch (const spawn_error& e) {
    CHECK(std::string(e.what()).find("ssh to 127.0.0.1:" + std::to_string(refused.port) + " failed") !=
          std::string::npos);
    CHECK(std::string(e.what()).find("Connection refused") != std::string::npos);
    CHECK(e.step() == "ssh");
  }
  auto wrong_key = s->options(false);
  wrong_key.identity_file = (s->dir / "other_key").string();
  wrong_key.options.push_back("IdentitiesOnly=yes");
  try {
    cmd("true").on(remote::host(wrong_key)).run();
    FAIL("no exception");
  } catch (const spawn_error& e) {
    CHECK(std::string(e.what()).find("Permission denied") != std::string::npos);
  }
  auto unknown = s->options(false);
  unknown.host = "no-such-host.invalid";
  CHECK_THROWS_WITH_AS(cmd("true").on(remote::host(unknown)).run(), doctest::Contains("Could not resolve hostname"),
                       spawn_error);
}

TEST_CASE("kill, timeouts and dropped handles end the remote processes, not only the local ssh") {
  auto* s = server();
  if (!s) return;
  for (const bool multiplex : {true, false}) {
    CAPTURE(multiplex);
    const auto h = s->host(multiplex);
    {
      auto running = (cmd("sleep", "991.5") | cmd("sleep", "991.5")).on(h).start();
      REQUIRE(eventually([] { return sleeping_processes("991.5") == 2; }));
      running.kill();
      CHECK(eventually([] { return sleeping_processes("991.5") == 0; }));
    }
    {
      auto dropped = cmd("sh", "-c", "sleep 992.5; echo never").on(h).start();
      REQUIRE(eventually([] { return sleeping_processes("992.5") == 1; }));
    }
    CHECK(eventually([] { return sleeping_processes("992.5") == 0; }));
    CHECK_THROWS_AS(cmd("sleep", "993.5").on(h).timeout(std::chrono::milliseconds(500)).run(), timeout_error);
    CHECK(eventually([] { return sleeping_processes("993.5") == 0; }));
    // A remote timeout's own process group is reached too.
    {
      auto nested = cmd("sleep", "994.5").timeout(std::chrono::seconds(100)).on(h).start();
      REQUIRE(eventually([] { return sleeping_processes("994.5") == 1; }));
      nested.kill();
      CHECK(eventually([] { return sleeping_processes("994.5") == 0; }));
    }
    // A kill at once, before the far side has started.
    cmd("sleep", "995.5").on(h).start().kill();
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    CHECK(sleeping_processes("995.5") == 0);
  }
}

TEST_CASE("multiplexing shares one connection in a private directory, closed and removed at exit") {
  auto* s = server();
  if (!s) return;
  temp_dir tmp;
  const auto listing = cmd(helper_path("remote_once"), s->port, s->dir / "user_key", s->dir / "known_hosts")
                           .env("TMPDIR", tmp.path.string())
                           .read();
  // While it ran: one control socket (ssh names it by a 40-digit hash).
  CHECK(listing.size() == 40);
  // After it exited: nothing left, and no master process for that directory.
  CHECK(fs::is_empty(tmp.path));
  CHECK(cmd("pgrep", "-f", "ControlPath=" + tmp.path.string()).unchecked().read().empty());
  // This process's own directory is 0700.
  cmd("true").on(s->host()).run();
  bool private_directory = false;
  for (const auto& entry : fs::directory_iterator(fs::temp_directory_path())) {
    if (entry.path().filename().string().rfind("ductile-ssh-", 0) != 0) continue;
    struct stat info {};
    if (::stat(entry.path().c_str(), &info) == 0 && info.st_uid == ::geteuid() && (info.st_mode & 0777) == 0700)
      private_directory = true;
  }
  CHECK(private_directory);
}

TEST_CASE("modifiers that cannot cross are refused at on(), saying which") {
  remote::ssh_options somewhere;
  somewhere.host = "example.invalid";
  const remote::host h(somewhere);
  CHECK_THROWS_WITH_AS(cmd("id").user("nobody").on(h), doctest::Contains("user()"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(cmd("id").before_spawn([](spawn_spec&) {}).on(h), doctest::Contains("before_spawn()"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(cmd("id").pass_fd(3, 1).on(h), doctest::Contains("pass_fd()"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(cmd("id").pty().on(h), doctest::Contains("pty()"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(cmd("id").own_cgroup().on(h), doctest::Contains("own_cgroup()"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(cmd("id").keep_caps(caps::set{}).on(h), doctest::Contains("keep_caps()"), std::invalid_argument);
  CHECK_THROWS_WITH_AS((cmd("id").stdout_capture() | cmd("cat")).on(h), doctest::Contains("a capture"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(cmd("id").on(h).on(h), doctest::Contains("on()"), std::invalid_argument);
  somewhere.host = "-oProxyCommand=x";
  CHECK_THROWS_AS(remote::host{somewhere}, std::invalid_argument);
  CHECK_THROWS_AS(remote::host(remote::ssh_options{}), std::invalid_argument);
  // This machine needs no ssh.
  CHECK(cmd("echo", "here").on(remote::host::local()).read() == "here");
  CHECK(to_string(cmd("ls").on(h)) == "ls [on example.invalid]");
}

TEST_CASE("a pool over host slots spreads jobs, and a host that cannot be reached fails only its jobs") {
  auto* s = server();
  if (!s) return;
  temp_dir dir;
  {
    pool spread({{s->host(), 2}, {remote::host::local(), 1}});
    std::vector<handle> jobs;
    for (int i = 0; i < 9; ++i)
      jobs.push_back(
          spread.submit(cmd("sh", "-c", "echo ${SSH_CONNECTION:+remote}${SSH_CONNECTION:-local}; \"$0\" \"$1\" 300000",
                            helper_path("count_running"), dir.path)
                            .stdout_capture()));
    spread.wait_all();
    int remote = 0, local = 0;
    for (auto& job : jobs) {
      const auto text = job.wait().stdout_bytes;
      if (text.rfind("remote", 0) == 0) ++remote;
      if (text.rfind("local", 0) == 0) ++local;
    }
    CHECK(remote + local == 9);
    std::istringstream peaks(slurp(dir / "peaks"));
    int most = 0;
    for (int count = 0; peaks >> count;) most = std::max(most, count);
    CHECK(most <= 3);
    CHECK(remote >= 2);
    CHECK(local >= 1);
  }
  auto refused = s->options(false);
  refused.port = test::free_local_port();
  // The reachable host first: a tie goes to the first, so the first job runs
  // there while the next ones fail fast on the other.
  pool mixed({{s->host(), 1}, {remote::host(refused), 1}});
  std::vector<handle> jobs;
  for (int i = 0; i < 6; ++i) jobs.push_back(mixed.submit(cmd("sleep", "0.2")));
  mixed.wait_all();
  int failed = 0, succeeded = 0;
  for (auto& job : jobs) {
    try {
      job.wait();
      ++succeeded;
    } catch (const spawn_error& e) {
      CHECK(std::string(e.what()).find("Connection refused") != std::string::npos);
      ++failed;
    }
  }
  CHECK(failed >= 1);
  CHECK(succeeded >= 1);
  CHECK(failed + succeeded == 6);
  // With failure_policy::stop the first unreachable host stops the pool.
  pool stopping({{s->host(), 1}, {remote::host(refused), 1}}, failure_policy::stop);
  std::vector<handle> stopped_jobs;
  for (int i = 0; i < 6; ++i) stopped_jobs.push_back(stopping.submit(cmd("sleep", "0.2")));
  stopping.wait_all();
  CHECK(stopping.stopped());
  int cancelled = 0;
  for (auto& job : stopped_jobs) {
    try {
      job.wait();
    } catch (const cancelled_error&) {
      ++cancelled;
    } catch (const error&) {
    }
  }
  CHECK(cancelled >= 1);
}

TEST_CASE("round 3 defect 12: a relative dir() on the far side is a path: no cd -, no CDPATH") {
  auto* s = server();
  if (!s) return;
  const auto h = s->host();
  // The login environment has CDPATH naming a directory that holds
  // only-in-cdpath; chdir() never searches it, and neither may the far side.
  for (const char* relative : {"only-in-cdpath", "-"}) {
    CAPTURE(relative);
    CHECK_THROWS_AS(cmd("pwd").dir(relative).run(), spawn_error);
    const output o = cmd("pwd").dir(relative).on(h).stdout_capture().stderr_capture().unchecked().run();
    CHECK_FALSE(o.status.success());
    CHECK(o.stdout_bytes.empty());
  }
  // A relative directory that is there is entered as usual.
  CHECK(cmd("pwd").dir(".").on(h).read() == cmd("pwd").on(h).read());
}

TEST_CASE("round 3 defect 14: arguments past the 128 KiB a single argument may hold cross, and stdin still flows") {
  auto* s = server();
  if (!s) return;
  const auto h = s->host();
  const std::string first(70000, 'a'), second(70000, 'b');
  const expression sizes =
      cmd("sh", "-c", "printf %s \"$1\" | wc -c; printf %s \"$2\" | wc -c; cat", "sh", first, second);
  const std::string here = sizes.stdin_bytes("typed\n").read();
  CHECK(here == "70000\n70000\ntyped");
  CHECK(sizes.on(h).stdin_bytes("typed\n").read() == here);
  CHECK((cmd("echo", "piped") | sizes.on(h)).read() == "70000\n70000\npiped");
  // The script sent ahead leaves nothing behind on the far side.
  std::error_code ignored;
  std::size_t left = 0;
  for (const auto& entry : fs::directory_iterator(fs::temp_directory_path(), ignored))
    if (entry.path().filename().string().find(".script") != std::string::npos &&
        entry.path().filename().string().rfind("ductile-", 0) == 0)
      ++left;
  CHECK(left == 0);
  // A failure of the far side is still its own status.
  CHECK(cmd("sh", "-c", "exit 7", "sh", first, second).on(h).unchecked().run().status.code() == 7);
}

TEST_CASE("round 3 defect 13: only a death by SIGPIPE on a remote pipe's left side is forgiven, not an exit with 141") {
  auto* s = server();
  if (!s) return;
  const auto h = s->host();
  const expression exits_141 = cmd("sh", "-c", "exit 141") | cmd("cat");
  CHECK_THROWS_AS(exits_141.run(), status_error);
  CHECK_THROWS_AS(exits_141.on(h).run(), status_error);
  CHECK(exits_141.on(h).unchecked().run().status.code() == 141);
  const expression killed = cmd("sh", "-c", "while :; do echo y; done") | cmd("head", "-n", "1");
  CHECK(killed.read() == "y");
  CHECK(killed.on(h).read() == "y");
  const expression signalled = cmd("sh", "-c", "kill -s PIPE $$") | cmd("cat");
  CHECK(signalled.run().status.success());
  CHECK(signalled.on(h).run().status.success());
}

TEST_CASE("round 3 defects 12-14: random trees give the same output, status and files here and through on()") {
  auto* s = server();
  if (!s) return;
  const auto h = s->host();
  remote_test::check_random_trees([&](const expression& e) { return e.on(h); }, 300);
}
