#pragma once
// A real single-node Slurm cluster for the tests and the benchmark: munged,
// slurmctld and slurmd from Debian's packages, run in the foreground as
// children of this process, with their key, configuration, state and spool
// in a temporary directory and their ports free ones of 127.0.0.1. The node
// is this machine, called "localhost", with 2 CPUs whatever the hardware
// has. Clients find it through SLURM_CONF, which start() sets for this
// process and its children. Stopped (SIGTERM, then SIGKILL) and reaped when
// destroyed, and killed with this process if it dies first. Needs root:
// slurmd starts job steps as their users.

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <ductile/ductile.hpp>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>

#include "local_ports.hpp"

namespace cluster_test {

namespace fs = std::filesystem;

// Why a cluster cannot run here, or nothing.
inline std::optional<std::string> why_no_cluster() {
  if (::geteuid() != 0) return "slurmd needs root to start job steps as their users";
  for (const char* daemon : {"/usr/sbin/munged", "/usr/sbin/slurmctld", "/usr/sbin/slurmd"})
    if (::access(daemon, X_OK) != 0)
      return std::string(daemon) + " is not installed (Debian packages munge, slurmctld, slurmd)";
  for (const char* client : {"srun", "squeue", "scancel", "sinfo", "mungekey"})
    if (!ductile::which(client)) return std::string(client) + " is not installed (slurm-client, munge)";
  return std::nullopt;
}

class slurm_cluster {
 public:
  slurm_cluster() {
    using namespace ductile;
    // Made here, not found: nobody else's directory of that name is used.
    std::string pattern = (fs::temp_directory_path() / "ductile-slurm-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("the test cluster: mkdtemp failed");
    dir_ = pattern;
    fs::create_directories(dir_ / "state");
    fs::create_directories(dir_ / "spool");
    fs::permissions(dir_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                              fs::perms::others_read | fs::perms::others_exec);
    cmd("mungekey", "--create", "--keyfile=" + (dir_ / "munge.key").string()).stdout_null().run();
    fs::permissions(dir_ / "munge.key", fs::perms::owner_read | fs::perms::owner_write);
    // The ports were free when chosen, but anything on the machine (another
    // suite's servers, a client's outgoing connection) may take one before
    // the daemon binds it: then it exits, and the cluster starts again on others.
    for (int attempt = 1;; ++attempt) {
      try {
        start_on_free_ports();
        return;
      } catch (const std::runtime_error&) {
        for (auto* daemon : {&node_, &controller_, &munged_}) stop(*daemon);
        if (attempt == 3) throw;
      }
    }
  }

  void start_on_free_ports() {
    using namespace ductile;
    std::error_code ignored;
    fs::remove(dir_ / "munge.socket", ignored);  // an earlier attempt's
    const std::string d = dir_.string();
    const int controller_port = test::free_local_port();
    int node_port = test::free_local_port();
    while (node_port == controller_port) node_port = test::free_local_port();
    std::ofstream(dir_ / "slurm.conf")
        << "ClusterName=ductile\n"
        << "SlurmctldHost=localhost(127.0.0.1)\n"
        << "SlurmctldPort=" << controller_port << "\nSlurmdPort=" << node_port << "\n"
        << "AuthType=auth/munge\nCredType=cred/munge\nAuthInfo=socket=" << d << "/munge.socket\n"
        << "SlurmUser=root\nSlurmdUser=root\n"
        << "ProctrackType=proctrack/linuxproc\nTaskPlugin=task/none\n"
        << "SelectType=select/cons_tres\nSelectTypeParameters=CR_Core\n"
        // A pending job starts within a second of its resources freeing, as
        // on a busy site whose scheduler runs often (Slurm's default pass
        // is once a minute, besides the events that trigger one).
        << "SchedulerType=sched/builtin\nSchedulerParameters=sched_interval=1\nMpiDefault=none\n"
        << "JobAcctGatherType=jobacct_gather/none\nAccountingStorageType=accounting_storage/none\n"
        << "JobCompType=jobcomp/none\n"
        // A cancelled step gets SIGKILL 2 s after SIGTERM; finished jobs stay
        // listed for 5 minutes (squeue --states=all finds them).
        << "KillWait=2\nMinJobAge=300\nInactiveLimit=0\nReturnToService=2\n"
        << "SlurmdParameters=config_overrides\n"
        << "StateSaveLocation=" << d << "/state\nSlurmdSpoolDir=" << d << "/spool\n"
        << "SlurmctldPidFile=" << d << "/slurmctld.pid\nSlurmdPidFile=" << d << "/slurmd.pid\n"
        << "SlurmctldLogFile=" << d << "/slurmctld.log\nSlurmdLogFile=" << d << "/slurmd.log\n"
        << "NodeName=localhost NodeAddr=127.0.0.1 CPUs=2 RealMemory=512 State=UNKNOWN\n"
        << "PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP\n";
    // On a cgroup v2 host, slurmd makes its cgroups itself instead of asking
    // systemd, which did not start it.
    std::ofstream(dir_ / "cgroup.conf") << "IgnoreSystemd=yes\n";
    ::setenv("SLURM_CONF", (dir_ / "slurm.conf").c_str(), 1);
    munged_.emplace(cmd("/usr/sbin/munged", "-F", "-f", "--socket=" + d + "/munge.socket",
                        "--key-file=" + d + "/munge.key", "--pid-file=" + d + "/munged.pid",
                        "--seed-file=" + d + "/munged.seed", "--log-file=" + d + "/munged.log")
                        .stdin_null()
                        .stdout_null()
                        .stderr_path(dir_ / "munged.out")
                        .kill_on_parent_exit()
                        .start());
    wait_for([&] { return fs::exists(dir_ / "munge.socket"); }, "munged to make its socket");
    controller_.emplace(cmd("/usr/sbin/slurmctld", "-D", "-i")
                            .stdin_null()
                            .stdout_null()
                            .stderr_path(dir_ / "slurmctld.out")
                            .kill_on_parent_exit()
                            .start());
    node_.emplace(cmd("/usr/sbin/slurmd", "-D", "-N", "localhost")
                      .stdin_null()
                      .stdout_null()
                      .stderr_path(dir_ / "slurmd.out")
                      .kill_on_parent_exit()
                      .start());
    wait_for(
        [] {
          const auto states = cmd("sinfo", "-h", "-o", "%t").stderr_null().unchecked().read();
          return states == "idle";
        },
        "the node to be idle (sinfo)");
  }

  ~slurm_cluster() {
    // The node first, so that no step is left; then the controller, then munge.
    for (auto* daemon : {&node_, &controller_, &munged_}) stop(*daemon);
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  slurm_cluster(const slurm_cluster&) = delete;
  slurm_cluster& operator=(const slurm_cluster&) = delete;

  const fs::path& dir() const { return dir_; }

 private:
  template <class Condition>
  void wait_for(Condition condition, const char* what) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!condition()) {
      if (std::chrono::steady_clock::now() > deadline) {
        // The daemons' last words say why (slurmd wants a cgroup layout it knows, say).
        std::string why;
        for (const char* log : {"slurmd.out", "slurmctld.out", "munged.out"}) {
          std::ifstream in(dir_ / log);
          std::string line, last;
          while (std::getline(in, line))
            if (line.find("error") != std::string::npos || line.find("fatal") != std::string::npos) last = line;
          if (!last.empty()) why += "; " + last;
        }
        throw std::runtime_error(std::string("the test cluster did not start: waited 30 s for ") + what + why);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  static void stop(std::optional<ductile::handle>& daemon) {
    if (!daemon) return;
    try {
      daemon->send_signal(SIGTERM);
      if (!daemon->wait_for(std::chrono::seconds(10))) daemon->kill();
      daemon->try_wait();
    } catch (...) {
    }
    daemon.reset();
  }

  fs::path dir_;
  std::optional<ductile::handle> munged_, controller_, node_;
};

}  // namespace cluster_test
