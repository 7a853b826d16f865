// Copies stdin to both stdout and stderr, chunk by chunk, so that all three
// streams carry data at the same time.
#include <unistd.h>

#include <cstdlib>

static void write_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = write(fd, data, size);
    if (n <= 0) std::exit(3);
    data += n;
    size -= static_cast<size_t>(n);
  }
}

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
