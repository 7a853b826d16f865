// proc_subject NAME MEBIBYTES MODE FILE: a process whose /proc the tests know.
// Sets its comm to NAME (prctl: spaces, parentheses and newlines allowed),
// touches MEBIBYTES of memory and keeps it, opens FILE and keeps it open, prints
// "ready FD" and then sleeps (MODE "sleep") or spins (MODE "burn") until killed.
#include <fcntl.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char** argv) {
  if (argc != 5) return 2;
  if (prctl(PR_SET_NAME, argv[1], 0, 0, 0) != 0) return 3;
  const std::size_t size = std::strtoull(argv[2], nullptr, 10) << 20;
  char* memory = static_cast<char*>(std::malloc(size + 1));
  if (memory == nullptr) return 4;
  std::memset(memory, 1, size + 1);
  const int fd = open(argv[4], O_RDONLY);
  if (fd < 0) return 5;
  std::printf("ready %d\n", fd);
  std::fflush(stdout);
  const bool burn = std::strcmp(argv[3], "burn") == 0;
  volatile unsigned long sink = 0;
  for (;;) {
    if (burn)
      for (int i = 0; i < 1000000; ++i) sink = sink + static_cast<unsigned long>(i);
    else
      pause();
    sink = sink + static_cast<unsigned long>(memory[sink % size]);
  }
}
