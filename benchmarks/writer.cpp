// writer BYTES: writes BYTES bytes to stdout in 1 MiB writes, as fast as it can.
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  unsigned long long left = std::strtoull(argv[1], nullptr, 10);
  std::vector<char> block(1 << 20, 'x');
  while (left > 0) {
    const std::size_t n = left < block.size() ? static_cast<std::size_t>(left) : block.size();
    const ssize_t written = write(1, block.data(), n);
    if (written < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    left -= static_cast<unsigned long long>(written);
  }
  return 0;
}
