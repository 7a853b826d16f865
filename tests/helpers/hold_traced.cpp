// hold_traced PID SECONDS: attaches to PID with ptrace (without stopping it),
// prints "attached", and keeps it traced for SECONDS without ever waiting for
// it: once PID exits, its parent cannot reap it until this tracer is gone.
#include <sys/ptrace.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  const pid_t pid = static_cast<pid_t>(std::atoi(argv[1]));
  if (ptrace(PTRACE_SEIZE, pid, nullptr, nullptr) != 0) {
    std::perror("ptrace");
    return 1;
  }
  std::puts("attached");
  std::fflush(stdout);
  sleep(static_cast<unsigned>(std::atoi(argv[2])));
  return 0;
}
