// The expressions of the Linux behaviour suites, on CreateProcessW, job
// objects and the completion port, with helper.exe standing in for the
// POSIX tools.
#include <atomic>
#include <ductile/native.hpp>
#include <thread>

#include "os/windows/io_port.hpp"
#include "windows_support.hpp"

using namespace ductile;
using namespace std::chrono_literals;
using test::win_helper;
namespace fs = std::filesystem;

TEST_CASE("run, read and exit codes of the full 32 bits") {
  CHECK(win_helper("echo", "hello", "world").read() == "hello world");
  CHECK(win_helper("exit", "0").run().status.success());
  const auto three = win_helper("exit", "3").unchecked().run();
  CHECK(three.status.code() == exit_status::code_type{3});
  const auto big = win_helper("exit", "0xC0000005").unchecked().run();
  CHECK(big.status.code() == exit_status::code_type{0xC0000005u});
  CHECK_FALSE(big.status.signal().has_value());
  const auto error = test::expect_error<status_error>([] { win_helper("exit", "7").run(); });
  CHECK(std::string(error.what()).find("exit code 7") != std::string::npos);
  CHECK(test::children().empty());
}

TEST_CASE("a crash is named in the message") {
  const auto error = test::expect_error<status_error>([] { win_helper("crash").run(); });
  CAPTURE(error.what());
  CHECK(error.output().status.code() == exit_status::code_type{0xC0000005u});
  CHECK(std::string(error.what()).find("access violation") != std::string::npos);
}

TEST_CASE("captures of every size, from both streams, with 64 MiB of input at once") {
  for (const unsigned long long size : {0ull, 1ull, 4095ull, 65536ull, 1000001ull}) {
    const auto out = win_helper("flood", std::to_string(size)).stdout_capture().stderr_capture().run();
    CHECK(out.stdout_bytes.size() == size + std::string("\nstdin 0\n").size());
    CHECK(out.stderr_bytes.size() == size);
  }
  const std::size_t mib64 = 64ull << 20;
  const auto out = win_helper("flood", std::to_string(mib64))
                       .stdin_bytes(std::string(mib64, 'i'))
                       .stdout_capture()
                       .stderr_capture()
                       .run();
  CHECK(out.stderr_bytes.size() == mib64);
  REQUIRE(out.stdout_bytes.size() > mib64);
  CHECK(out.stdout_bytes.substr(mib64) == "\nstdin " + std::to_string(mib64) + "\n");
  CHECK(out.stdout_bytes.find_first_not_of('o') == mib64);
}

TEST_CASE("pipelines of three and more, then, unchecked and ok_codes") {
  CHECK((win_helper("echo", "a b c") | win_helper("cat") | win_helper("cat") | win_helper("cat")).read() == "a b c");
  CHECK(win_helper("echo", "one").then(win_helper("echo", "two")).read() == "one\ntwo");
  const auto last = (win_helper("echo", "x") | win_helper("exit", "4")).unchecked().run();
  CHECK(last.status.code() == exit_status::code_type{4});
  CHECK(win_helper("exit", "5").ok_codes({0, 5}).run().status.code() == exit_status::code_type{5});
  CHECK(test::children().empty());
}

TEST_CASE("combined capture, tee and line callbacks") {
  const auto both = win_helper("flood", "10").stdin_null().stderr_to_stdout().stdout_capture().run();
  CHECK(both.stdout_bytes.size() == 20 + std::string("\nstdin 0\n").size());
  std::vector<std::string> lines;
  win_helper("lines", "1000").stdout_lines([&](std::string_view line) { lines.emplace_back(line); }).run();
  REQUIRE(lines.size() == 1000);
  CHECK(lines.front() == "line 1");
  CHECK(lines.back() == "line 1000");
  test::temp_dir dir;
  win_helper("echo", "into a file").stdout_path(dir / "out.txt").run();
  CHECK(test::slurp(dir / "out.txt") == "into a file\n");
  win_helper("echo", "gone").stdout_null().run();
  CHECK(win_helper("cat").stdin_path(dir / "out.txt").read() == "into a file");
  CHECK(win_helper("cat").stdin_null().read().empty());
}

TEST_CASE("stdin_pipe and input(), reader, lines, read_for and read_line_for") {
  auto h = win_helper("cat").stdin_pipe().stdout_capture().start();
  auto in = h.input();
  std::string sent;
  for (int i = 0; i < 100; ++i) {
    const std::string line = "line " + std::to_string(i) + "\n";
    CHECK(in.write(line));
    sent += line;
  }
  CHECK(in.write(std::string(1 << 20, 'x')));
  sent += std::string(1 << 20, 'x');
  in.close();
  CHECK(h.wait().stdout_bytes == sent);
  auto reader = win_helper("lines", "3").reader();
  std::string all;
  char buffer[4];
  for (std::size_t got; (got = reader.read(buffer, sizeof buffer)) > 0;) all.append(buffer, got);
  CHECK(all == "line 1\nline 2\nline 3\n");
  std::vector<std::string> seen;
  for (const auto& line : win_helper("lines", "5").lines()) seen.emplace_back(line);
  CHECK(seen.size() == 5);
  auto slow = win_helper("sleep", "2000").reader();
  char byte;
  CHECK_FALSE(slow.read_for(&byte, 1, 100ms).has_value());
  slow.kill();
  auto line_reader = win_helper("lines", "2").reader();
  std::string first;
  CHECK(line_reader.read_line_for(first, 5s) == std::optional<bool>(true));
  CHECK(first == "line 1");
}

TEST_CASE("timeouts and kill() end the whole tree, grandchildren included") {
  auto h = win_helper("grandchild").stdout_capture().start();
  std::string pid_line;
  // The grandchild's pid comes first; wait for it on a reader of our own.
  auto r = win_helper("grandchild").reader();
  char c;
  while (r.read(&c, 1) == 1 && c != '\n') pid_line += c;
  const unsigned long grandchild = std::stoul(pid_line);
  CHECK(test::running(grandchild));
  r.kill();
  CHECK(test::eventually([&] { return !test::running(grandchild); }));
  h.kill();
  const auto error = test::expect_error<timeout_error>([] { win_helper("sleep", "30000").timeout(200ms).run(); });
  CHECK(std::string(error.what()).find("timed out") != std::string::npos);
  CHECK(test::children().empty());
}

TEST_CASE("send_signal(SIGKILL) and SIGTERM end the run; other numbers are refused") {
  for (const int signal : {SIGTERM, SIGKILL}) {
    auto h = win_helper("sleep", "30000").unchecked().start();
    h.send_signal(signal);
    const output* ended = h.wait_for(10s);
    REQUIRE(ended != nullptr);
    CHECK(ended->status.code() == exit_status::code_type{1});  // what TerminateJobObject is told
  }
  auto other = win_helper("sleep", "30000").start();
  CHECK_THROWS_AS(other.send_signal(10), std::invalid_argument);  // SIGUSR1's number elsewhere
  other.kill();
}

TEST_CASE("the directory, and the environment whose names ignore case") {
  test::temp_dir dir;
  const auto here = win_helper("pwd").dir(dir.path).read();
  CHECK(fs::equivalent(fs::path(here), dir.path));
  CHECK(win_helper("env", "DUCTILE_TEST").env("DUCTILE_TEST", "ü and spaces").read() == "ü and spaces");
  CHECK(win_helper("env", "ductile_test").env("DUCTILE_TEST", "any case").read() == "any case");
  CHECK(win_helper("env_count", "PATH").env("Path", "C:\\windows").read() == "1");
  CHECK(win_helper("env", "PATH").env("Path", "C:\\windows").read() == "C:\\windows");
  CHECK(win_helper("env", "HOMEDRIVE").env_remove("homedrive").read() == "(unset)");
  const auto error = test::expect_error<spawn_error>([&] { win_helper("pwd").dir(dir / "missing").run(); });
  CHECK(std::string(error.what()).find("cannot change directory") != std::string::npos);
}

TEST_CASE("a bare name is found in the child's PATH with PATHEXT, never in the current directory") {
  test::temp_dir bin, cwd;
  fs::copy_file(test::windows_helper(), bin / "found-helper.exe");
  fs::copy_file(test::windows_helper(), cwd / "local-helper.exe");
  const std::string path = bin.path.string();
  CHECK(cmd("found-helper", "echo", "via PATH").env("PATH", path).read() == "via PATH");
  CHECK(cmd("FOUND-HELPER.EXE", "echo", "any case").env("Path", path).read() == "any case");
  CHECK(which("found-helper") == std::nullopt);
  const auto found = which("found-helper", cmd("x").env("Path", path));
  REQUIRE(found.has_value());
  CHECK(fs::equivalent(fs::path(*found), bin / "found-helper.exe"));
  const auto previous = fs::current_path();
  fs::current_path(cwd.path);
  const auto error = test::expect_error<spawn_error>([&] { cmd("local-helper", "echo", "x").env("PATH", path).run(); });
  fs::current_path(previous);
  CHECK(std::string(error.what()).find("not found in PATH") != std::string::npos);
}

TEST_CASE("invalid UTF-8 is std::invalid_argument") {
  CHECK_THROWS_AS(win_helper("echo", std::string("\xff\xfe")).run(), std::invalid_argument);
  CHECK_THROWS_AS(win_helper("echo").env("BAD", std::string("\xc3")).run(), std::invalid_argument);
}

TEST_CASE("only the three standard handles are inherited") {
  SECURITY_ATTRIBUTES inheritable{sizeof inheritable, nullptr, TRUE};
  HANDLE event = CreateEventW(&inheritable, TRUE, FALSE, nullptr);
  REQUIRE(event != nullptr);
  const auto value = std::to_string(reinterpret_cast<std::uintptr_t>(event));
  CHECK(win_helper("handle", value).read() == "invalid");
  CloseHandle(event);
}

TEST_CASE("pools run every job with at most N at a time") {
  pool p(3);
  std::vector<handle> jobs;
  for (int i = 0; i < 8; ++i) jobs.push_back(p.submit(win_helper("echo", std::to_string(i)).stdout_capture()));
  p.wait_all();
  for (std::size_t i = 0; i < jobs.size(); ++i) CHECK(jobs[i].wait().stdout_bytes == std::to_string(i) + "\n");
  CHECK(test::children().empty());
}

namespace {
// Whether this system keeps a job's limits and accounts its processes: Windows
// does; Wine 8 accepts the limits without keeping or enforcing them, and
// accounts no CPU time.
bool system_enforces_job_limits() {
  HANDLE job = CreateJobObjectW(nullptr, nullptr);
  JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits{};
  limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_ACTIVE_PROCESS;
  limits.BasicLimitInformation.ActiveProcessLimit = 3;
  SetInformationJobObject(job, JobObjectExtendedLimitInformation, &limits, sizeof limits);
  JOBOBJECT_EXTENDED_LIMIT_INFORMATION kept{};
  QueryInformationJobObject(job, JobObjectExtendedLimitInformation, &kept, sizeof kept, nullptr);
  CloseHandle(job);
  return kept.BasicLimitInformation.ActiveProcessLimit == 3;
}
}  // namespace

TEST_CASE("own_cgroup() is a job object: output::cgroup is its accounting, and its limits hold") {
  const auto spun = win_helper("spin", "300").own_cgroup().run();
  REQUIRE(spun.cgroup.has_value());
  REQUIRE(spun.cgroup->memory_peak_bytes.has_value());
  if (!system_enforces_job_limits()) {
    MESSAGE("skipped: this system (Wine 8) neither keeps a job's limits nor accounts its CPU time");
    return;
  }
  CHECK(spun.cgroup->cpu_time >= 100ms);
  CHECK(*spun.cgroup->memory_peak_bytes > 0);
  cgroup_options small;
  small.memory_max = 64ull << 20;
  CHECK(win_helper("alloc", "16").own_cgroup(small).read() == "ok");
  CHECK(win_helper("alloc", "256").own_cgroup(small).read() == "refused");
  cgroup_options few;
  few.pids_max = 3;
  // The helper and two of the five it asks for.
  CHECK(win_helper("spawn_many", "5").own_cgroup(few).read() == "2");
  cgroup_options slow;
  slow.cpu_max = 0.5;
  CHECK(win_helper("spin", "10").own_cgroup(slow).run().status.success());
  CHECK(test::children().empty());
}

TEST_CASE("own_cgroup() with a parent cgroup is not supported") {
  cgroup_options elsewhere;
  elsewhere.parent = "C:\\nowhere";
  const auto error = test::expect_error<spawn_error>([&] { win_helper("echo").own_cgroup(elsewhere).run(); });
  CHECK(std::string(error.what()).find("not supported on this system") != std::string::npos);
}

TEST_CASE("what an own_cgroup() subtree leaves running ends with it") {
  auto r = win_helper("grandchild").own_cgroup().reader();
  std::string pid_line;
  char c;
  while (r.read(&c, 1) == 1 && c != '\n') pid_line += c;
  const unsigned long grandchild = std::stoul(pid_line);
  r.kill();
  CHECK(test::eventually([&] { return !test::running(grandchild); }));
}

TEST_CASE("start_detached() runs a daemon outside the run's job, its pid file locked") {
  test::temp_dir dir;
  const auto pid_file = (dir / "daemon.pid").string();
  detach_options options;
  options.pid_file = pid_file;
  const process_id daemon = win_helper("sleep", "60000").start_detached(options);
  CHECK(test::running(daemon));
  CHECK(test::slurp(pid_file) == std::to_string(daemon) + "\n");
  const auto again = test::expect_error<spawn_error>([&] { win_helper("sleep", "60000").start_detached(options); });
  CHECK(std::string(again.what()).find("already running") != std::string::npos);
  HANDLE process = OpenProcess(PROCESS_TERMINATE | SYNCHRONIZE, FALSE, daemon);
  REQUIRE(process != nullptr);
  TerminateProcess(process, 0);
  WaitForSingleObject(process, 10000);
  CloseHandle(process);
  const process_id second = win_helper("sleep", "60000").start_detached(options);
  CHECK(test::running(second));
  HANDLE other = OpenProcess(PROCESS_TERMINATE, FALSE, second);
  TerminateProcess(other, 0);
  CloseHandle(other);
}

TEST_CASE("tee, before_spawn and observers") {
  const auto teed = win_helper("echo", "both ways").stdout_tee().run();
  CHECK(teed.stdout_bytes == "both ways\n");
  const auto edited = win_helper("echo", "before").before_spawn([](spawn_spec& spec) { spec.argv.back() = "after"; });
  CHECK(edited.read() == "after");
  struct counting final : observer {
    std::atomic<int> spawned_count{0}, exited_count{0};
    void spawned(const spawn_event&) override { ++spawned_count; }
    void exited(const exit_event& e) override {
      if (e.status.success()) ++exited_count;
    }
  };
  auto seen = std::make_shared<counting>();
  set_observer(seen);
  (win_helper("echo", "x") | win_helper("cat")).read();
  set_observer(nullptr);
  CHECK(seen->spawned_count == 2);
  CHECK(seen->exited_count == 2);
}

TEST_CASE("pools report progress and follow their failure policy") {
  std::vector<progress> seen;
  std::mutex lock;
  pool p(2, failure_policy::stop, 1s);
  p.on_progress([&](const progress& now) {
    std::lock_guard<std::mutex> guard(lock);
    seen.push_back(now);
  });
  auto failing = p.submit(win_helper("exit", "9"));
  auto slow = p.submit(win_helper("sleep", "30000"));
  auto queued = p.submit(win_helper("echo", "never"));
  p.wait_all();
  CHECK(p.stopped());
  CHECK_THROWS_AS(failing.wait(), status_error);
  CHECK_THROWS_AS(slow.wait(), cancelled_error);
  CHECK_THROWS_AS(queued.wait(), cancelled_error);
  std::lock_guard<std::mutex> guard(lock);
  REQUIRE_FALSE(seen.empty());
  CHECK(seen.back().total == 3);
  CHECK(seen.back().failed >= 1);
}

TEST_CASE("keep_going runs every job past a failure; finish_running lets the running ones finish") {
  pool going(2, failure_policy::keep_going);
  auto bad = going.submit(win_helper("exit", "9"));
  auto good = going.submit(win_helper("echo", "still").stdout_capture());
  auto later = going.submit(win_helper("echo", "later").stdout_capture());
  going.wait_all();
  CHECK_FALSE(going.stopped());
  CHECK_THROWS_AS(bad.wait(), status_error);
  CHECK(good.wait().stdout_bytes == "still\n");
  CHECK(later.wait().stdout_bytes == "later\n");

  pool finishing(2, failure_policy::finish_running);
  auto failing = finishing.submit(win_helper("exit", "9"));
  auto running = finishing.submit(win_helper("sleep", "500").stdout_capture());
  auto queued = finishing.submit(win_helper("echo", "never"));
  finishing.wait_all();
  CHECK(finishing.stopped());
  CHECK_THROWS_AS(failing.wait(), status_error);
  CHECK(running.wait().status.success());
  CHECK_THROWS_AS(queued.wait(), cancelled_error);
}

TEST_CASE("completion_handle() is a Win32 event set when the run ends") {
  auto h = win_helper("sleep", "300").start();
  HANDLE done = h.completion_handle();
  REQUIRE(done != nullptr);
  CHECK(WaitForSingleObject(done, 0) == WAIT_TIMEOUT);
  CHECK(WaitForSingleObject(done, 10000) == WAIT_OBJECT_0);
  CHECK(h.try_wait() != nullptr);
}

TEST_CASE("stdin_file and stdout_file take Windows handles, duplicated at the call") {
  test::temp_dir dir;
  const auto path = (dir / "handle.txt").wstring();
  HANDLE file = CreateFileW(path.c_str(), GENERIC_WRITE, FILE_SHARE_READ, nullptr, CREATE_ALWAYS, 0, nullptr);
  REQUIRE(file != INVALID_HANDLE_VALUE);
  const auto e = win_helper("echo", "through a handle").stdout_file(file);
  CloseHandle(file);  // the expression holds its own duplicate
  e.run();
  CHECK(test::slurp(dir / "handle.txt") == "through a handle\n");
}

TEST_CASE("kill_on_parent_exit() ends the child when the process that started it exits") {
  const auto parent = test::own_directory() / "parent_exits.exe";
  const unsigned long bound = std::stoul(cmd(parent, "bound").read());
  CHECK(test::eventually([&] { return !test::running(bound); }));
  const unsigned long free = std::stoul(cmd(parent, "free").read());
  CHECK(test::running(free));
  HANDLE process = OpenProcess(PROCESS_TERMINATE, FALSE, free);
  TerminateProcess(process, 0);
  CloseHandle(process);
}

namespace {
// Whether this system resizes a pseudo console: Windows does; Wine 8 answers
// E_NOTIMPL.
bool system_resizes_pseudo_consoles() {
  HANDLE in_read, in_write, out_read, out_write;
  CreatePipe(&in_read, &in_write, nullptr, 0);
  CreatePipe(&out_read, &out_write, nullptr, 0);
  auto& api = detail::windows::pseudo_consoles();
  void* console = nullptr;
  bool resizes = false;
  if (api.create != nullptr && SUCCEEDED(api.create(COORD{80, 24}, in_read, out_write, 0, &console))) {
    resizes = SUCCEEDED(api.resize(console, COORD{100, 30}));
    api.close(console);
  }
  for (HANDLE h : {in_read, in_write, out_read, out_write}) CloseHandle(h);
  return resizes;
}
}  // namespace

TEST_CASE("pty() is a pseudo console of the size asked for, and resize() resizes it") {
  const auto shown = win_helper("console").pty(pty_size{30, 100}).stdout_capture().run();
  // The console's output is the master's, terminal sequences and all; the
  // run ends when the console does, after its program.
  CHECK(shown.stdout_bytes.find("console 30x100") != std::string::npos);
  CHECK(test::children().empty());
  if (!system_resizes_pseudo_consoles()) {
    MESSAGE("skipped: this system (Wine 8) does not resize a pseudo console (E_NOTIMPL)");
    return;
  }
  auto h = win_helper("console").pty(pty_size{30, 100}).stdout_capture().start();
  std::this_thread::sleep_for(300ms);
  h.resize(pty_size{40, 120});
  const auto& out = h.wait();
  CAPTURE(out.stdout_bytes);
  CHECK(out.stdout_bytes.find("console 40x120") != std::string::npos);
}
