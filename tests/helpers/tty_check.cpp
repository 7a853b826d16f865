// Prints whether 0, 1 and 2 are terminals, whether this process has a
// controlling terminal, and whether it leads its session:
// "isatty 1 1 1 controlling 1 leader 1".
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>

int main() {
  const int controlling = open("/dev/tty", O_RDWR | O_NOCTTY);
  std::printf("isatty %d %d %d controlling %d leader %d\n", isatty(0), isatty(1), isatty(2), controlling >= 0 ? 1 : 0,
              getsid(0) == getpid() ? 1 : 0);
  return 0;
}
