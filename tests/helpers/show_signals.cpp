// Prints the SigBlk and SigIgn lines of /proc/self/status: a child must start
// with an empty mask and no ignored signals.
#include <cstdio>
#include <cstring>

int main() {
  FILE* status = std::fopen("/proc/self/status", "r");
  if (status == nullptr) return 2;
  char line[256];
  while (std::fgets(line, sizeof line, status) != nullptr)
    if (std::strncmp(line, "SigBlk:", 7) == 0 || std::strncmp(line, "SigIgn:", 7) == 0) std::fputs(line, stdout);
  std::fclose(status);
  return 0;
}
