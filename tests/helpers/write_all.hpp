#pragma once
#include <unistd.h>

#include <cstdlib>

// Writes everything or exits with 3: a helper that cannot write has nothing to report.
inline void write_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = write(fd, data, size);
    if (n <= 0) std::exit(3);
    data += n;
    size -= static_cast<size_t>(n);
  }
}
