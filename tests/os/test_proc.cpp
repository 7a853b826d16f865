#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <ductile/proc.hpp>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "support.hpp"

#if __has_include("proc/parse.hpp")
#include "proc/parse.hpp"  // else the single header has it inline
#endif

using namespace ductile;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// A proc_subject started and ready: its pid and the descriptor it holds open.
struct subject {
  reader_handle reader;
  pid_t pid = 0;
  int fd = -1;
  explicit subject(const expression& e) : reader(e.reader()) {
    pid = reader.pids().at(0);
    std::string line;
    for (const auto& l : reader.lines()) {
      line = l;
      break;
    }
    REQUIRE(line.rfind("ready ", 0) == 0);
    fd = std::stoi(line.substr(6));
  }
};

expression proc_subject(const std::string& name, int mebibytes, const char* mode, const fs::path& file) {
  return test::helper("proc_subject", name, mebibytes, mode, file).unchecked();
}

std::string first_line_of(const char* path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// Waits up to five seconds for `ready`.
template <class Ready>
bool eventually(Ready&& ready) {
  for (int i = 0; i < 500; ++i) {
    if (ready()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

}  // namespace

TEST_CASE("a comm with spaces, parentheses and a newline is read exactly from stat, status and a sample") {
  test::leak_check check;
  test::temp_dir tmp;
  test::write_file(tmp / "held", "x");
  const std::string hostile = "a) (b\nc d)";
  subject s(proc_subject(hostile, 1, "sleep", tmp / "held"));
  const proc::process p(s.pid);
  const auto st = p.stat();
  CHECK(st.comm == hostile);
  CHECK(st.pid == s.pid);
  CHECK(st.ppid == ::getpid());
  CHECK(eventually([&] { return p.stat().state == 'S'; }));  // it sleeps once it has said "ready"
  CHECK(p.status().name == hostile);
  proc::sampler sampler;
  const auto sample = sampler.sample(s.pid);
  REQUIRE(sample);
  CHECK(sample->name == hostile);
  CHECK(sample->ppid == ::getpid());
}

TEST_CASE("stat, status, cmdline, environ, cwd, exe and fds of a process whose values the test set") {
  test::leak_check check;
  test::temp_dir tmp;
  test::write_file(tmp / "held file", "x");
  const int mebibytes = 48;
  subject s(proc_subject("subject", mebibytes, "sleep", tmp / "held file")
                .env("PROC_TEST_VALUE", "with spaces = and more")
                .dir(tmp.path));
  const proc::process p(s.pid);
  CHECK(p.pid() == s.pid);

  const auto st = p.stat();
  CHECK(st.resident_bytes >= std::uint64_t(mebibytes) << 20);
  CHECK(st.virtual_bytes >= st.resident_bytes);
  CHECK(st.threads == 1);
  CHECK(st.pgrp == ::getpgrp());
  const auto age = std::chrono::system_clock::now() - st.start_time;
  CHECK(age > -2s);
  CHECK(age < 60s);

  const auto status = p.status();
  CHECK(status.uid[0] == ::getuid());
  CHECK(status.uid[1] == ::geteuid());
  CHECK(status.gid[0] == ::getgid());
  CHECK(status.resident_bytes >= std::uint64_t(mebibytes) << 20);
  CHECK(status.peak_resident_bytes >= status.resident_bytes);
  CHECK(status.threads == 1);
  CHECK(status.caps.effective == caps::current().effective);

  const auto args = p.cmdline();
  REQUIRE(args.size() == 5);
  CHECK(args[1] == "subject");
  CHECK(args[2] == std::to_string(mebibytes));
  CHECK(args[4] == (tmp / "held file").string());

  const auto env = p.environ();
  CHECK(std::find(env.begin(), env.end(),
                  std::make_pair(std::string("PROC_TEST_VALUE"), std::string("with spaces = and more"))) != env.end());

  CHECK(p.cwd() == fs::canonical(tmp.path).string());
  CHECK(fs::path(p.exe()).filename() == "proc_subject");

  const auto fds = p.fds();
  const auto held = std::find_if(fds.begin(), fds.end(), [&](const proc::fd_info& f) { return f.fd == s.fd; });
  REQUIRE(held != fds.end());
  CHECK(held->target == fs::canonical(tmp / "held file").string());
  CHECK(std::is_sorted(fds.begin(), fds.end(),
                       [](const proc::fd_info& a, const proc::fd_info& b) { return a.fd < b.fd; }));

  const auto maps = p.maps();
  CHECK(std::any_of(maps.begin(), maps.end(), [](const proc::memory_map& m) {
    return fs::path(m.path).filename() == "proc_subject" && m.permissions.find('x') != std::string::npos;
  }));
  CHECK(std::all_of(maps.begin(), maps.end(), [](const proc::memory_map& m) { return m.start < m.end; }));

  const auto io = proc::process::self().io();
  CHECK(io.read_chars > 0);
}

TEST_CASE("the sampler reports about 100% for a busy process and about 0% for a sleeping one") {
  test::leak_check check;
  test::temp_dir tmp;
  test::write_file(tmp / "held", "x");
  subject busy(proc_subject("busy", 1, "burn", tmp / "held"));
  subject idle(proc_subject("idle", 1, "sleep", tmp / "held"));
  proc::sampler sampler;
  const auto first = sampler.sample();
  const auto find = [](const std::vector<proc::process_sample>& all, pid_t pid) {
    const auto it = std::find_if(all.begin(), all.end(), [&](const proc::process_sample& s) { return s.pid == pid; });
    REQUIRE(it != all.end());
    return *it;
  };
  CHECK(find(first, busy.pid).cpu_percent == 0);  // a first sample has nothing to compare with
  std::this_thread::sleep_for(1s);
  const auto second = sampler.sample();
  const auto busy_sample = find(second, busy.pid);
  const auto idle_sample = find(second, idle.pid);
  MESSAGE("busy " << busy_sample.cpu_percent << "%, idle " << idle_sample.cpu_percent << "%");
  // Generous: on a loaded machine a spinning process gets less than a whole CPU.
  CHECK(busy_sample.cpu_percent > 20);
  CHECK(busy_sample.cpu_percent < 130);
  CHECK(idle_sample.cpu_percent < 10);
  CHECK(busy_sample.cpu_time > 300ms);
  CHECK(busy_sample.state == 'R');
}

TEST_CASE("descendants of a shell that started grandchildren, breadth first") {
  test::leak_check check;
  auto h = cmd("sh", "-c", "sh -c 'sleep 30; :' & sleep 30 & wait").new_process_group().start();  // kill() reaches all
  const pid_t shell = h.pids().at(0);
  std::vector<pid_t> below;
  // Until the forks have become what they exec.
  CHECK(eventually([&] {
    below = proc::process(shell).descendants();
    return below.size() == 3 && proc::process(below[2]).stat().comm == "sleep";
  }));
  const auto children = proc::process(shell).children();
  REQUIRE(children.size() == 2);
  // Breadth first: the two children before the grandchild.
  CHECK(std::is_permutation(below.begin(), below.begin() + 2, children.begin()));
  CHECK(proc::process(below[2]).stat().comm == "sleep");
  CHECK(std::count(children.begin(), children.end(), proc::process(below[2]).stat().ppid) == 1);
  h.kill();
}

TEST_CASE("handle::processes() covers a running pipeline and a grandchild, with CPU % from the second call") {
  test::leak_check check;
  auto h = (cmd("sh", "-c", "sleep 30 & wait") | cmd("cat")).stdout_capture().start();
  const auto pids = h.pids();
  REQUIRE(pids.size() == 2);
  std::vector<proc::process_sample> samples;
  CHECK(eventually([&] {
    samples = h.processes();
    // A process that has just exec'd has faulted no page in yet, and the
    // grandchild is sh's fork until it has exec'd sleep.
    return samples.size() == 3 && samples[1].name == "sleep" &&
           std::all_of(samples.begin(), samples.end(),
                       [](const proc::process_sample& s) { return s.resident_bytes > 0; });
  }));
  REQUIRE(samples.size() == 3);
  CHECK(samples[0].pid == pids[0]);
  CHECK(samples[0].name == "sh");
  CHECK(samples[1].name == "sleep");
  CHECK(samples[1].ppid == pids[0]);
  CHECK(samples[2].pid == pids[1]);
  CHECK(samples[2].name == "cat");
  for (const auto& s : samples) {
    CAPTURE(s.name);
    CHECK(s.resident_bytes > 0);
  }
  ::kill(samples[1].pid, SIGKILL);  // the grandchild: kill() ends the run's own processes
  h.kill();
  CHECK(h.processes().empty());
}

TEST_CASE("reader_handle::processes() samples the processes of a streamed run") {
  test::leak_check check;
  auto reader = (cmd("sh", "-c", "echo ready; exec sleep 30") | cmd("cat")).reader();
  for (const auto& line : reader.lines()) {
    CHECK(line == "ready");
    break;
  }
  std::vector<proc::process_sample> samples;
  CHECK(eventually([&] {
    samples = reader.processes();
    return samples.size() == 2 && samples[0].name == "sleep";
  }));
  REQUIRE(samples.size() == 2);
  CHECK(samples[0].pid == reader.pids().at(0));
  CHECK(samples[1].name == "cat");
  reader.kill();
  CHECK(reader.processes().empty());
}

TEST_CASE("a process that is gone is no_such_process, from the constructor and from every read") {
  test::leak_check check;
  auto h = cmd("sleep", "30").start();
  const proc::process p(h.pids().at(0));
  CHECK(p.stat().comm == "sleep");
  h.kill();
  CHECK_THROWS_AS(p.stat(), proc::no_such_process);
  CHECK_THROWS_AS(p.status(), proc::no_such_process);
  CHECK_THROWS_AS(p.cmdline(), proc::no_such_process);
  CHECK_THROWS_AS(p.environ(), proc::no_such_process);
  CHECK_THROWS_AS(p.exe(), proc::no_such_process);
  CHECK_THROWS_AS(p.fds(), proc::no_such_process);
  CHECK_THROWS_AS(p.children(), proc::no_such_process);
  const auto error = test::expect_error<proc::no_such_process>([&] { (void)p.stat(); });
  CHECK(error.pid() == p.pid());
  CHECK(error.file() == "/proc/" + std::to_string(p.pid()) + "/stat");
  CHECK(error.code() == std::errc::no_such_process);
  CHECK_THROWS_AS(proc::process(p.pid()), proc::no_such_process);
  CHECK_THROWS_AS(proc::process(-1), proc::no_such_process);
}

TEST_CASE("sampling every process while processes come and go never fails") {
  test::leak_check check;
  std::atomic<bool> done{false};
  std::thread churn([&] {
    while (!done) (cmd("true") | cmd("true")).run();
  });
  proc::sampler sampler;
  std::size_t seen = 0;
  for (int i = 0; i < 50; ++i) {
    for (const auto& s : sampler.sample()) {
      CHECK(s.pid > 0);
      CHECK(!s.name.empty());
      ++seen;
    }
    for (const pid_t pid : proc::pids()) {
      try {
        (void)proc::process(pid).cmdline();
      } catch (const proc::no_such_process&) {
      }
    }
  }
  done = true;
  churn.join();
  CHECK(seen > 50);
}

TEST_CASE("as root: another user's environment is an error naming EACCES, the pid and the file") {
  if (::geteuid() != 0) {
    MESSAGE("skipped: needs root, to run a reader as nobody");
    return;
  }
  test::leak_check check;
  const std::string out = test::reachable_helper("proc_read_environ", 1).user("nobody").read();
  CHECK(out.rfind("EACCES 1 /proc/1/environ\n", 0) == 0);
  CHECK(out.find("cannot read /proc/1/environ: Permission denied") != std::string::npos);
}

TEST_CASE("round 3 defect 2: the first stat() of a process is exact, even with a /proc/stat longer than 4 KiB") {
  test::leak_check check;
  const auto fields = [](const std::string& line) {
    std::istringstream in(line);
    unsigned long long virtual_bytes = 0, resident = 0, statm_virtual = 0;
    long long start = 0;
    in >> virtual_bytes >> resident >> start >> statm_virtual;
    REQUIRE(in);
    CHECK(resident > 0);
    // The same mapping, read a moment apart: within a mebibyte.
    CHECK(virtual_bytes + (1 << 20) > statm_virtual);
    CHECK(statm_virtual + (1 << 20) > virtual_bytes);
    return start;
  };
  const long long real_start = fields(test::helper("first_stat").read());
  CHECK(real_start > 1000000000);
  if (::geteuid() != 0) {
    MESSAGE("skipped the long /proc/stat: needs root, to bind-mount one in a private mount namespace");
    return;
  }
  // Many CPUs make /proc/stat long: 200 cpu lines before btime, with a boot
  // time of its own so the test sees that this file was the one read.
  std::ifstream real("/proc/stat");
  std::string text, line;
  while (std::getline(real, line)) {
    if (line.rfind("btime ", 0) == 0) {
      for (int cpu = 1000; cpu < 1200; ++cpu) text += "cpu" + std::to_string(cpu) + " 1 2 3 4 5 6 7 8 9 10\n";
      line = "btime 1000000000";
    }
    text += line + "\n";
  }
  REQUIRE(text.size() > 6144);
  test::temp_dir dir;
  test::write_file(dir / "stat", text);
  const long long start = fields(test::helper("first_stat", dir / "stat").read());
  CHECK(start >= 1000000000);
  CHECK(start < real_start - 100000000);  // btime 2001 plus an uptime, not today
}

TEST_CASE("threads are not processes: pids() lists a process once, and children() covers every thread's children") {
  test::leak_check check;
  const auto all = proc::pids();
  CHECK(std::is_sorted(all.begin(), all.end()));
  CHECK(std::adjacent_find(all.begin(), all.end()) == all.end());
  // A child started from another thread of this process is still its child.
  pid_t from_thread = 0;
  handle h = [&] {
    std::optional<handle> started;
    std::thread([&] { started.emplace(cmd("sleep", "30").start()); }).join();
    return std::move(*started);
  }();
  from_thread = h.pids().at(0);
  const auto children = proc::process::self().children();
  CHECK(std::count(children.begin(), children.end(), from_thread) == 1);
  for (const pid_t pid : all) {
    if (pid == ::getpid()) continue;
    const auto self_tasks = fs::path("/proc/self/task");
    for (const auto& task : fs::directory_iterator(self_tasks)) {
      const pid_t tid = std::stoi(task.path().filename());
      if (tid != ::getpid()) CHECK(pid != tid);
    }
  }
  h.kill();
}

TEST_CASE("system memory, load, uptime, boot time and CPUs agree with /proc read independently") {
  const auto memory = proc::memory();
  std::map<std::string, std::uint64_t> meminfo;
  {
    std::ifstream in("/proc/meminfo");
    std::string key;
    std::uint64_t value;
    std::string unit;
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      fields >> key >> value;
      meminfo[key.substr(0, key.size() - 1)] = value * 1024;
    }
  }
  CHECK(memory.total == meminfo["MemTotal"]);
  CHECK(memory.swap_total == meminfo["SwapTotal"]);
  CHECK(memory.available > 0);
  CHECK(memory.available <= memory.total);

  std::istringstream load(first_line_of("/proc/loadavg"));
  double one = 0, five = 0, fifteen = 0;
  load.imbue(std::locale::classic());
  load >> one >> five >> fifteen;
  const auto ours = proc::load_average();
  CHECK(std::abs(ours[0] - one) < 0.5);
  CHECK(std::abs(ours[1] - five) < 0.5);
  CHECK(std::abs(ours[2] - fifteen) < 0.5);

  std::istringstream up(first_line_of("/proc/uptime"));
  up.imbue(std::locale::classic());
  double seconds = 0;
  up >> seconds;
  const double measured = std::chrono::duration<double>(proc::uptime()).count();
  CHECK(std::abs(measured - seconds) < 2.0);

  std::ifstream stat("/proc/stat");
  std::string line;
  long long btime = 0;
  while (std::getline(stat, line))
    if (line.rfind("btime ", 0) == 0) btime = std::stoll(line.substr(6));
  const auto boot = std::chrono::duration_cast<std::chrono::seconds>(proc::boot_time().time_since_epoch()).count();
  CHECK(std::abs(boot - btime) <= 1);
  CHECK(proc::cpu_count() == static_cast<unsigned>(::sysconf(_SC_NPROCESSORS_ONLN)));
}

TEST_CASE("every process in both sampler::sample() and ps has the same parent, name and about the same memory") {
  test::leak_check check;
  // Sampled before and after ps: a process whose values moved meanwhile (a
  // compiler growing, a shell exec'ing) is compared only on what held still.
  proc::sampler sampler;
  const auto before = sampler.sample();
  const std::string listing = cmd("ps", "-eo", "pid=,ppid=,rss=,comm=").read();
  const auto after = sampler.sample();
  std::map<pid_t, std::pair<const proc::process_sample*, const proc::process_sample*>> by_pid;
  for (const auto& s : before) by_pid[s.pid].first = &s;
  for (const auto& s : after) by_pid[s.pid].second = &s;
  std::istringstream in(listing);
  std::string line;
  int compared = 0;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    pid_t pid = 0, ppid = 0;
    std::uint64_t rss_kib = 0;
    fields >> pid >> ppid >> rss_kib;
    std::string comm;
    std::getline(fields >> std::ws, comm);
    const auto found = by_pid.find(pid);
    if (found == by_pid.end() || !found->second.first || !found->second.second) continue;
    if (comm == "ps" || comm.find("<defunct>") != std::string::npos) continue;
    const auto& a = *found->second.first;
    const auto& b = *found->second.second;
    CAPTURE(pid);
    CAPTURE(comm);
    if (a.ppid == b.ppid) CHECK(a.ppid == ppid);
    // Kernel threads (children of kthreadd, pid 2) have workqueue names that
    // ps reads elsewhere and that change as they work.
    if (a.name == b.name && ppid != 2 && pid != 2 && a.name.find('\n') == std::string::npos) CHECK(a.name == comm);
    const double low = static_cast<double>(std::min(a.resident_bytes, b.resident_bytes)) / 1024;
    const double high = static_cast<double>(std::max(a.resident_bytes, b.resident_bytes)) / 1024;
    if (high - low <= 0.1 * high) {
      CHECK(static_cast<double>(rss_kib) >= low * 0.9 - 1024);
      CHECK(static_cast<double>(rss_kib) <= high * 1.1 + 1024);
    }
    ++compared;
  }
  CHECK(compared > 10);
}

TEST_CASE("stat text from older and newer kernels: optional fields are zero, new ones ignored, bad text an error") {
  // Fields 1 to 38 of a 2.6 kernel: no processor (39).
  std::string fields = "S 1 42 42 0 -1 4194304 100 0 0 0 250 150 0 0 20 0 3 0 1000 8192000 512";
  for (int n = 25; n <= 38; ++n) fields += " 0";
  proc::detail::parsed_stat old;
  proc::detail::parse_stat(77, "77 (odd ) name) " + fields + "\n", old);
  CHECK(old.info.pid == 77);
  CHECK(old.info.comm == "odd ) name");
  CHECK(old.info.state == 'S');
  CHECK(old.info.ppid == 1);
  CHECK(old.info.pgrp == 42);
  CHECK(old.info.threads == 3);
  CHECK(old.info.processor == 0);
  CHECK(old.start_ticks == 1000);
  CHECK(old.info.virtual_bytes == 8192000);
  CHECK(old.info.resident_bytes == 512 * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE)));
  const auto ticks = ::sysconf(_SC_CLK_TCK);
  CHECK(old.info.user_time == std::chrono::nanoseconds(250 * 1000000000LL / ticks));
  CHECK(old.info.system_time == std::chrono::nanoseconds(150 * 1000000000LL / ticks));

  // A future kernel with ten more fields: the known ones are unchanged.
  std::string newer = fields + " 5";  // processor
  for (int n = 40; n <= 62; ++n) newer += " 9";
  proc::detail::parsed_stat future;
  proc::detail::parse_stat(77, "77 (x) " + newer + "\n", future);
  CHECK(future.info.processor == 5);
  CHECK(future.info.ppid == 1);

  proc::detail::parsed_stat bad;
  CHECK_THROWS_AS(proc::detail::parse_stat(77, "77 (cut short) S 1 2", bad), proc::error);
  CHECK_THROWS_AS(proc::detail::parse_stat(77, "no parentheses at all", bad), proc::error);
}
