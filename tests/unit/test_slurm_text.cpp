// What on(slurm) tells srun and reads from squeue and sacct.
#if __has_include("cluster/job_facts.hpp")
#include "cluster/job_facts.hpp"
#include "support.hpp"

using namespace ductile;
using namespace ductile::detail;

TEST_CASE("srun's options come from slurm_options, the caller's extra ones last") {
  cluster::slurm_options o;
  CHECK(srun_options(o, "grep", "ductile-x") == std::vector<std::string>{"srun", "-Q", "-Q", "--quit-on-interrupt",
                                                                         "--ntasks=1", "--nodes=1", "--job-name=grep",
                                                                         "--cpus-per-task=1", "--comment=ductile-x"});
  o.partition = "gpu";
  o.account = "lab";
  o.qos = "high";
  o.cpus_per_task = 4;
  o.memory_bytes = 1024 * 1024 + 1;
  o.time_limit = std::chrono::hours(26) + std::chrono::seconds(61);
  o.job_name = "mine";
  o.extra = {"--exclusive"};
  CHECK(srun_options(o, "grep", "c") ==
        std::vector<std::string>{"srun", "-Q", "-Q", "--quit-on-interrupt", "--ntasks=1", "--nodes=1",
                                 "--job-name=mine", "--cpus-per-task=4", "--partition=gpu", "--account=lab",
                                 "--qos=high", "--mem=1025K", "--time=26:01:01", "--exclusive", "--comment=c"});
  CHECK(slurm_time_text(std::chrono::seconds(59)) == "0:00:59");
}

TEST_CASE("a job is found in squeue's listing by its whole comment") {
  const char* listing =
      "(null)|1|COMPLETED|None\n"
      "ductile-ab|2|RUNNING|None\n"
      "ductile-abc|3|COMPLETING|TimeLimit\n"
      "a|b|4|PENDING|Resources\n";
  const auto job = find_job(listing, "ductile-abc");
  REQUIRE(job.has_value());
  CHECK(job->id == "3");
  CHECK(job->state == "COMPLETING");
  CHECK(job->reason == "TimeLimit");
  CHECK(find_job(listing, "a|b")->state == "PENDING");
  CHECK_FALSE(find_job(listing, "ductile-a").has_value());
  CHECK_FALSE(find_job("", "x").has_value());
  CHECK(count_pending_jobs("ductile-p-1|5|PENDING|Priority\nductile-p-2|6|RUNNING|None\nductile-q-3|7|PENDING|None\n",
                           "ductile-p-") == 1);
}

TEST_CASE("Slurm's reasons for ending a job are named, the job's own failures are not") {
  CHECK(slurm_end_note({"12", "TIMEOUT", "TimeLimit"}) ==
        "Slurm job 12 ended in TIMEOUT (reason TimeLimit): it reached its time limit");
  // Still completing when srun has exited: the reason tells what it ends in.
  CHECK(slurm_end_note({"12", "COMPLETING", "TimeLimit"}) ==
        "Slurm job 12 ended in TIMEOUT (reason TimeLimit): it reached its time limit");
  CHECK(slurm_end_note({"7", "NODE_FAIL", "NodeDown"}).find("its node failed") != std::string::npos);
  CHECK(slurm_end_note({"7", "CANCELLED by 0", "None"}) ==
        "Slurm job 7 ended in CANCELLED by 0: it was cancelled by scancel or an administrator");
  CHECK(slurm_end_note({"7", "FAILED", "NonZeroExitCode"}).empty());
  CHECK(slurm_end_note({"7", "COMPLETED", "None"}).empty());
  CHECK(slurm_refusal_words("srun: error: invalid partition specified: x\n"
                            "allocation failure: Invalid partition name specified\n") ==
        "invalid partition specified: x; allocation failure: Invalid partition name specified");
  CHECK(slurm_refusal_words("something odd\n") == "something odd");
}

TEST_CASE("sacct's durations and sizes, and a job's usage from its lines") {
  CHECK(parse_slurm_duration("00:01.500") == std::chrono::microseconds(1500000));
  CHECK(parse_slurm_duration("01:02:03") == std::chrono::seconds(3723));
  CHECK(parse_slurm_duration("2-01:00:00") == std::chrono::hours(49));
  CHECK_FALSE(parse_slurm_duration("").has_value());
  CHECK_FALSE(parse_slurm_duration("abc").has_value());
  CHECK(parse_slurm_size("0") == 0u);
  CHECK(parse_slurm_size("1234K") == 1234u * 1024);
  CHECK(parse_slurm_size("1.5M") == 1536u * 1024);
  CHECK(parse_slurm_size("2G") == 2ull << 30);
  CHECK_FALSE(parse_slurm_size("").has_value());
  const auto usage = parse_sacct_usage("00:02.250|\n00:00.001|812K\n00:02.249|20480K\n");
  REQUIRE(usage.has_value());
  CHECK(usage->cpu_time == std::chrono::microseconds(2250000));
  CHECK(usage->memory_peak_bytes == 20480u * 1024);
  CHECK_FALSE(parse_sacct_usage("").has_value());
}
#endif
