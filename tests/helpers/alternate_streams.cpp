// alternate_streams N: N rounds of "out I" on stdout, then "err I" on stderr,
// each line written whole and waited on until the reader has taken it from
// the pipe, so the order in which the parent reads them is the order written.
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "write_all.hpp"

static void say_and_wait(int fd, const std::string& text) {
  write_all(fd, text.data(), text.size());
  for (int i = 0; i < 10000; ++i) {  // at most 10 s
    int unread = 0;
    if (ioctl(fd, FIONREAD, &unread) != 0 || unread == 0) return;
    usleep(100);
  }
}

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  const int rounds = std::atoi(argv[1]);
  for (int i = 0; i < rounds; ++i) {
    say_and_wait(1, "out " + std::to_string(i) + "\n");
    say_and_wait(2, "err " + std::to_string(i) + "\n");
  }
  return 0;
}
