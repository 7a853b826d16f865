// write_lines BYTES [out|err]: BYTES bytes of 100-byte lines ("line 17 xxx...\n").
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "write_all.hpp"

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  std::size_t left = std::strtoull(argv[1], nullptr, 10);
  const int fd = argc > 2 && std::strcmp(argv[2], "err") == 0 ? 2 : 1;
  std::string block;
  for (unsigned long line = 0; left > 0; ++line) {
    char text[101];
    std::snprintf(text, sizeof text, "line %lu ", line);
    std::size_t length = std::strlen(text);
    std::memset(text + length, 'x', 99 - length);
    text[99] = '\n';
    const std::size_t n = left < 100 ? left : 100;
    block.append(text, n);
    left -= n;
    if (block.size() >= 65536 || left == 0) {
      write_all(fd, block.data(), block.size());
      block.clear();
    }
  }
  return 0;
}
