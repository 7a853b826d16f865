// Copies stdin to both stdout and stderr, chunk by chunk, so that all three
// streams carry data at the same time.
#include <unistd.h>

#include <cstdlib>

#include "write_all.hpp"

int main() {
  char buffer[16384];
  for (;;) {
    const ssize_t n = read(0, buffer, sizeof buffer);
    if (n < 0) return 4;
    if (n == 0) return 0;
    write_all(1, buffer, static_cast<size_t>(n));
    write_all(2, buffer, static_cast<size_t>(n));
  }
}
