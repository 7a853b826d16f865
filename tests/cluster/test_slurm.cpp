// on(cluster::slurm) and Slurm pools against a real single-node cluster
// (tests/cluster/slurm_cluster.hpp): munged, slurmctld and slurmd on
// 127.0.0.1. The node is this machine, so what a job runs can be found in
// /proc and compared with the same expression run here.

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <ductile/ductile.hpp>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

#include "cluster/slurm_cluster.hpp"
#include "remote/random_trees.hpp"
#include "support.hpp"

using namespace ductile;
using namespace test;

namespace {

// The cluster, started once for the suite; nullptr (and a message) where
// none can run here or its daemons did not start.
cluster_test::slurm_cluster* test_cluster() {
  static std::optional<std::string> missing = cluster_test::why_no_cluster();
  static std::unique_ptr<cluster_test::slurm_cluster> made;
  if (!missing && !made) {
    try {
      made = std::make_unique<cluster_test::slurm_cluster>();
    } catch (const std::exception& failure) {
      missing = failure.what();
    }
  }
  if (missing) {
    MESSAGE("skipped: " << *missing);
    return nullptr;
  }
  return made.get();
}

// A job's field as `scontrol show job` prints it ("JobState", "TimeLimit", ...).
std::string job_field(const std::string& job, const std::string& field) {
  const std::string text = cmd("scontrol", "-o", "show", "job", job).stderr_null().unchecked().read();
  const auto at = text.find(" " + field + "=");
  if (at == std::string::npos) return {};
  const auto start = at + field.size() + 2;
  return text.substr(start, text.find(' ', start) - start);
}

// The state squeue lists for the jobs named `name` (the last one listed), or
// "" while Slurm lists none.
std::string state_of_job_named(const std::string& name) {
  const std::string listing = cmd("squeue", "-h", "--states=all", "-o", "%j|%T").stderr_null().unchecked().read();
  std::string state;
  std::size_t start = 0;
  while (start < listing.size()) {
    const auto end = listing.find('\n', start);
    const std::string line = listing.substr(start, end - start);
    if (line.rfind(name + "|", 0) == 0) state = line.substr(name.size() + 1);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return state;
}

// A job name no other test and no earlier run uses.
std::string unique_job_name(const std::string& what) { return what + "-" + std::to_string(std::random_device{}()); }

// A job started by the first case and checked after the cases that need
// one CPU only: Slurm counts time limits in minutes, and this one is over
// after one minute and up to half a minute more.
handle& over_time_limit() {
  static handle job = [] {
    cluster::slurm_options o;
    o.time_limit = std::chrono::seconds(1);
    return cmd("sleep", "971.5").on(cluster::slurm(o)).stderr_capture().start();
  }();
  return job;
}

}  // namespace

TEST_CASE("Slurm's refusals are spawn_errors in Slurm's words") {
  if (!test_cluster()) return;
  over_time_limit();  // started now, ended by Slurm in a minute or so: the cases below meanwhile use one CPU
  cluster::slurm_options o;
  o.partition = "no-such-partition";
  try {
    cmd("true").on(cluster::slurm(o)).run();
    FAIL("no exception");
  } catch (const spawn_error& e) {
    const std::string message = e.what();
    CHECK(message.find("Invalid partition name") != std::string::npos);
    CHECK(message.find("no-such-partition") != std::string::npos);
    CHECK(e.step() == "srun");
  }
  cluster::slurm_options unknown_feature;
  unknown_feature.extra = {"--constraint=no-such-feature"};
  CHECK_THROWS_WITH_AS(cmd("true").on(cluster::slurm(unknown_feature)).run(),
                       doctest::Contains("Invalid feature specification"), spawn_error);
  CHECK_THROWS_WITH_AS(cmd("id").pty().on(cluster::slurm()), doctest::Contains("pty()"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(cmd("id").own_cgroup().on(cluster::slurm()), doctest::Contains("own_cgroup()"),
                       std::invalid_argument);
}

TEST_CASE("a job's output, stderr, status and id are those of the same command run here") {
  if (!test_cluster()) return;
  const cluster::slurm slurm;
  CHECK(cmd("echo", "hi").on(slurm).read() == "hi");
  const std::vector<std::string> args{"",     "two words",   "it's", "\"quoted\"", "line\nbreak", "$HOME",
                                      "`id`", "back\\slash", "*",    "-n",         "a=b",         "tab\there"};
  const auto print_args = cmd(helper_path("echo_args"), args);
  CHECK(print_args.on(slurm).read() == print_args.read());
  const auto both = cmd("sh", "-c", "echo out; echo err >&2").on(slurm).stdout_capture().stderr_capture().run();
  CHECK(both.stdout_bytes == "out\n");
  // srun adds nothing of its own to the subtree's stderr.
  CHECK(both.stderr_bytes == "err\n");
  REQUIRE(both.cluster_job.has_value());
  CHECK(std::stoul(*both.cluster_job) > 0);
  CHECK(job_field(*both.cluster_job, "JobName") == "sh");  // the first program's name
  // Without accounting (this cluster has none), there is no usage.
  CHECK_FALSE(both.cluster_usage.has_value());
  // Exit codes are the job's, and a failure names the command and keeps stderr.
  CHECK(cmd("sh", "-c", "exit 3").on(slurm).unchecked().run().status.code() == 3);
  try {
    cmd("sh", "-c", "echo why >&2; exit 9").on(slurm).stderr_capture().run();
    FAIL("no exception");
  } catch (const status_error& e) {
    CHECK(e.output().status.code() == 9);
    CHECK(std::string(e.what()).find("[on slurm]") != std::string::npos);
    CHECK(e.output().stderr_bytes == "why\n");
    CHECK(e.output().cluster_job.has_value());
  }
  // A job that runs local programs' output through: a big stdin and stdout.
  const std::string big(2 << 20, 'x');
  CHECK(cmd("wc", "-c").on(slurm).stdin_bytes(big).read() == std::to_string(big.size()));
  CHECK(cmd("cat").on(slurm).stdin_bytes(big).read() == big);
}

TEST_CASE("pipes, then, dir, env, unchecked, ok_codes and redirects happen in the job by the same rules") {
  if (!test_cluster()) return;
  const cluster::slurm slurm;
  temp_dir dir;
  const std::vector<expression> cases{
      cmd("printf", "a\\nb\\nc\\n") | cmd("wc", "-l"),
      cmd("false").unchecked().then(cmd("echo", "after")),
      cmd("sh", "-c", "exit 3").ok_codes({3}).then(cmd("echo", "accepted")),
      cmd("pwd").dir("/tmp"),
      cmd("sh", "-c", "echo ${A-unset} ${B-unset}").env_remove("B").env("A", "1").env("B", "2"),
      cmd("sh", "-c", "echo to stderr >&2").stderr_to_stdout(),
      (cmd("yes") | cmd("head", "-n", "2")),
      cmd("echo", "to file").stdout_path(dir / "out").then(cmd("cat", dir / "out")),
      cmd("sleep", "5").timeout(std::chrono::milliseconds(200)).unchecked().then(cmd("echo", "timed out")),
  };
  for (const auto& e : cases) {
    CAPTURE(to_string(e));
    CHECK(e.on(slurm).unchecked().read() == e.unchecked().read());
  }
  for (const auto& e : {cmd("false") | cmd("true"), cmd("false").then(cmd("true")), cmd("true").ok_codes({1})}) {
    CAPTURE(to_string(e));
    CHECK_THROWS_AS(e.on(slurm).run(), status_error);
  }
}

TEST_CASE("a job inside a local pipeline, and a job's lines as they come") {
  if (!test_cluster()) return;
  const cluster::slurm slurm;
  CHECK((cmd("seq", "1000") | cmd("grep", "7").on(slurm) | cmd("wc", "-l")).read() ==
        (cmd("seq", "1000") | cmd("grep", "7") | cmd("wc", "-l")).read());
  // The first line arrives while the job still runs: it waits for a file
  // that only the line's arrival makes.
  temp_dir dir;
  const fs::path go = dir / "go";
  std::vector<std::string> seen;
  const auto out = cmd("sh", "-c", "echo first; while [ ! -e \"$1\" ]; do sleep 0.05; done; echo second", "sh", go)
                       .on(slurm)
                       .stdout_lines([&](std::string_view line) {
                         seen.emplace_back(line);
                         if (line == "first") write_file(go, "");
                       })
                       .timeout(std::chrono::seconds(60))
                       .run();
  CHECK(out.status.success());
  CHECK(seen == std::vector<std::string>{"first", "second"});
  // stdin through a pipe the caller writes, line by line.
  auto h = cmd("sh", "-c", "while read -r l; do echo \"got $l\"; done").on(slurm).stdin_pipe().stdout_capture().start();
  CHECK(h.input().write("a\n"));
  CHECK(h.input().write("b\n"));
  h.input().close();
  CHECK(h.wait().stdout_bytes == "got a\ngot b\n");
}

TEST_CASE("a script longer than one argument may hold reaches the node") {
  if (!test_cluster()) return;
  const std::vector<std::string> many(30000, "word");
  CHECK(cmd("sh", "-c", "echo $#; echo \"$DUCTILE_SCRIPT_PART_0\" | wc -c", "sh", many).on(cluster::slurm()).read() ==
        "30000\n1");
}

TEST_CASE("random trees give the same output, status and files here and through on(slurm)") {
  if (!test_cluster()) return;
  const cluster::slurm slurm;
  remote_test::check_random_trees([&](const expression& e) { return e.on(slurm); }, 60);
}

TEST_CASE("a job over its time limit is a status_error naming the job and Slurm's reason") {
  if (!test_cluster()) return;
  try {
    over_time_limit().wait();
    FAIL("no exception");
  } catch (const status_error& e) {
    const std::string message = e.what();
    REQUIRE(e.output().cluster_job.has_value());
    CHECK(message.find("Slurm job " + *e.output().cluster_job + " ended in") != std::string::npos);
    CHECK(message.find("time limit") != std::string::npos);
    CHECK(e.output().stderr_bytes.find("DUE TO TIME LIMIT") != std::string::npos);
  }
  CHECK(eventually([] { return sleeping_processes("971.5") == 0; }));
}

TEST_CASE("slurm_options become srun's options, and what srun would misread is refused") {
  if (!test_cluster()) return;
  cluster::slurm_options o;
  o.partition = "debug";
  o.cpus_per_task = 2;
  o.memory_bytes = 100 * 1024 * 1024;
  o.time_limit = std::chrono::minutes(5);
  o.job_name = "named";
  o.extra = {"--comment=ignored-by-ductile", "--nice=5"};
  const cluster::slurm slurm(o);
  CHECK(slurm.options().cpus_per_task == 2);
  CHECK(slurm.label() == "slurm partition debug");
  const auto out = cmd("sh", "-c", "echo $SLURM_CPUS_PER_TASK $SLURM_JOB_PARTITION").on(slurm).stdout_capture().run();
  CHECK(out.stdout_bytes == "2 debug\n");
  REQUIRE(out.cluster_job.has_value());
  CHECK(job_field(*out.cluster_job, "JobName") == "named");
  CHECK(job_field(*out.cluster_job, "TimeLimit") == "00:05:00");
  CHECK(job_field(*out.cluster_job, "Nice") == "5");
  CHECK(to_string(cmd("ls").on(slurm)) == "ls [on slurm partition debug]");
  cluster::slurm_options dash;
  dash.partition = "-x";
  CHECK_THROWS_AS(cluster::slurm{dash}, std::invalid_argument);
  cluster::slurm_options zero;
  zero.cpus_per_task = 0;
  CHECK_THROWS_AS(cluster::slurm{zero}, std::invalid_argument);
  cluster::slurm_options instant;
  instant.time_limit = std::chrono::seconds(0);
  CHECK_THROWS_AS(cluster::slurm{instant}, std::invalid_argument);
}

TEST_CASE("kill, timeouts and dropped handles cancel the job, running or pending") {
  if (!test_cluster()) return;
  const cluster::slurm slurm;
  {
    auto running = (cmd("sleep", "961.5") | cmd("sleep", "961.5")).on(slurm).start();
    REQUIRE(eventually([] { return sleeping_processes("961.5") == 2; }, std::chrono::seconds(30)));
    running.kill();
    CHECK_THROWS(running.wait());
    CHECK(eventually([] { return sleeping_processes("961.5") == 0; }, std::chrono::seconds(20)));
  }
  {
    auto dropped = cmd("sleep", "962.5").on(slurm).start();
    REQUIRE(eventually([] { return sleeping_processes("962.5") == 1; }, std::chrono::seconds(30)));
  }
  CHECK(eventually([] { return sleeping_processes("962.5") == 0; }, std::chrono::seconds(20)));
  // One SIGINT ends the step (srun --quit-on-interrupt), as Ctrl-C ends a
  // local run; srun alone would want a second one within a second.
  {
    auto interrupted = cmd("sleep", "965.5").on(slurm).start();
    REQUIRE(eventually([] { return sleeping_processes("965.5") == 1; }, std::chrono::seconds(30)));
    interrupted.send_signal(SIGINT);
    CHECK_THROWS_AS(interrupted.wait(), status_error);
    CHECK(eventually([] { return sleeping_processes("965.5") == 0; }, std::chrono::seconds(20)));
  }
  CHECK_THROWS_AS(cmd("sleep", "963.5").on(slurm).timeout(std::chrono::seconds(2)).run(), timeout_error);
  CHECK(eventually([] { return sleeping_processes("963.5") == 0; }, std::chrono::seconds(20)));
  // Pending: a job holding both CPUs first, then one that must wait.
  cluster::slurm_options whole_node;
  whole_node.cpus_per_task = 2;
  auto filler = cmd("sleep", "964.5").on(cluster::slurm(whole_node)).start();
  REQUIRE(eventually([] { return sleeping_processes("964.5") == 1; }, std::chrono::seconds(30)));
  temp_dir dir;
  cluster::slurm_options probe;
  probe.job_name = unique_job_name("pending");
  auto waiting = cmd("touch", dir / "ran").on(cluster::slurm(probe)).start();
  REQUIRE(eventually([&] { return state_of_job_named(probe.job_name) == "PENDING"; }, std::chrono::seconds(30)));
  waiting.kill();
  CHECK_THROWS(waiting.wait());
  CHECK(eventually([&] { return state_of_job_named(probe.job_name) == "CANCELLED"; }, std::chrono::seconds(20)));
  filler.kill();
  CHECK(eventually([] { return sleeping_processes("964.5") == 0; }, std::chrono::seconds(20)));
  // Its turn never came: the node was freed, and still nothing ran.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  CHECK_FALSE(fs::exists(dir / "ran"));
}

TEST_CASE("a Slurm pool of 50 jobs through a 2-CPU node counts jobs pending in Slurm as queued") {
  if (!test_cluster()) return;
  pool jobs(cluster::slurm(), 8);
  std::mutex guard;
  std::vector<progress> reports;
  jobs.on_progress([&](const progress& p) {
    std::lock_guard<std::mutex> lock(guard);
    reports.push_back(p);
  });
  temp_dir dir;
  std::vector<handle> handles;
  for (int i = 0; i < 50; ++i)
    handles.push_back(jobs.submit(cmd("sh", "-c", "sleep 0.4; echo $1 > \"$2/$1\"", "sh", i, dir.path)));
  jobs.wait_all();
  for (auto& h : handles) CHECK(h.wait().cluster_job.has_value());
  for (int i = 0; i < 50; ++i) CHECK(slurp(dir / std::to_string(i)) == std::to_string(i) + "\n");
  std::lock_guard<std::mutex> lock(guard);
  REQUIRE(!reports.empty());
  CHECK(reports.back().done == 50);
  CHECK(reports.back().failed == 0);
  // Eight submitted at once, two CPUs: once the pool is under way, six of
  // the eight wait in Slurm's queue and count as queued, not running.
  std::vector<std::size_t> running;
  for (const auto& p : reports) {
    CHECK(p.queued + p.running + p.done == p.total);
    if (p.done >= 10 && p.done <= 40) running.push_back(p.running);
  }
  REQUIRE(!running.empty());
  std::sort(running.begin(), running.end());
  CHECK(running[running.size() / 2] <= 3);
}

TEST_CASE("a Slurm pool that stops on a failure cancels its pending and running jobs") {
  if (!test_cluster()) return;
  cluster::slurm_options named;
  named.job_name = unique_job_name("stopped");
  pool jobs(cluster::slurm(named), 6, failure_policy::stop);
  std::vector<handle> handles;
  // The failing job first, alone until it runs; then one more running and
  // four pending when it fails.
  handles.push_back(jobs.submit(cmd("sh", "-c", "sleep 2; exit 1")));
  REQUIRE(eventually([&] { return state_of_job_named(named.job_name) == "RUNNING"; }, std::chrono::seconds(30)));
  for (int i = 0; i < 5; ++i) handles.push_back(jobs.submit(cmd("sleep", "951.5")));
  jobs.wait_all();
  CHECK(jobs.stopped());
  CHECK_THROWS_AS(handles[0].wait(), status_error);
  for (std::size_t i = 1; i < handles.size(); ++i) CHECK_THROWS_AS(handles[i].wait(), cancelled_error);
  CHECK(eventually([] { return sleeping_processes("951.5") == 0; }, std::chrono::seconds(20)));
  // Pending ones were withdrawn, running ones ended: none is left in Slurm's queue.
  CHECK(eventually(
      [&] {
        const std::string state = state_of_job_named(named.job_name);
        return state != "PENDING" && state != "RUNNING" && state != "COMPLETING";
      },
      std::chrono::seconds(20)));
}

TEST_CASE("examples/slurm_fanout counts each file's lines in a job of its own") {
  if (!test_cluster()) return;
  temp_dir dir;
  std::vector<std::string> files;
  for (int i = 1; i <= 5; ++i) {
    files.push_back((dir / ("f" + std::to_string(i))).string());
    write_file(files.back(), std::string(static_cast<std::size_t>(i), '\n'));
  }
  const auto out = cmd(helper_path("example_slurm_fanout"), "-j", "3", files).stdout_capture().stderr_capture().run();
  for (int i = 1; i <= 5; ++i) CHECK(out.stdout_bytes.find(std::to_string(i) + " lines   job ") != std::string::npos);
  CHECK(out.stderr_bytes.find("0 queued, 0 running, 5 done, 0 failed") != std::string::npos);
  const auto failed = cmd(helper_path("example_slurm_fanout"), (dir / "missing").string())
                          .stdout_capture()
                          .stderr_null()
                          .unchecked()
                          .run();
  CHECK(failed.status.code() == 1);
  CHECK(failed.stdout_bytes.find("FAILED") != std::string::npos);
}
