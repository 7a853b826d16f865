// Prints this process's credentials: the Uid, Gid, Groups, Cap* and NoNewPrivs
// lines of /proc/self/status, then its umask and whether it leads its session.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

int main() {
  FILE* status = std::fopen("/proc/self/status", "r");
  if (status == nullptr) return 2;
  char line[512];
  const char* wanted[] = {
      "Uid:", "Gid:", "Groups:", "CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:", "NoNewPrivs:"};
  while (std::fgets(line, sizeof line, status) != nullptr)
    for (const char* w : wanted)
      if (std::strncmp(line, w, std::strlen(w)) == 0) std::fputs(line, stdout);
  std::fclose(status);
  const mode_t mask = umask(0);
  std::printf("Umask:\t%04o\n", static_cast<unsigned>(mask));
  std::printf("SessionLeader:\t%d\n", getsid(0) == getpid() ? 1 : 0);
  return 0;
}
