// Built with -m32 by child_ids_32bit.sh: the child code, run for real as a
// 32-bit process, switches to ids above 65535 and installs exactly the
// groups asked for (the legacy 16-bit calls would truncate both), then execs
// `cat /proc/self/status` so the script can read what the kernel recorded.
#include <sys/wait.h>
#include <unistd.h>

#include "os/linux/child.hpp"
#include "plan/credentials.hpp"

extern char** environ;

int main() {
  using namespace ductile::detail;
  static const gid_t groups[] = {1000, 70001};
  child_credentials credentials;
  credentials.switch_ids = true;
  credentials.uid = 100000;
  credentials.gid = 100001;
  credentials.groups = groups;
  credentials.group_count = 2;
  const char* const argv[] = {"cat", "/proc/self/status", nullptr};
  child_report report;
  child_plan plan;
  plan.argv = argv;
  plan.envp = environ;
  plan.program = "/bin/cat";
  plan.credentials = &credentials;
  plan.report = &report;
  const pid_t pid = fork();
  if (pid == 0) child_main(&plan);
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid) return 3;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 4;
}
