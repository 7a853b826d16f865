// write_bytes N [out|err|both]: writes N bytes of a repeating pattern.
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "write_all.hpp"

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  size_t left = std::strtoull(argv[1], nullptr, 10);
  const std::string where = argc > 2 ? argv[2] : "out";
  char block[65536];
  for (size_t i = 0; i < sizeof block; ++i) block[i] = static_cast<char>('a' + i % 26);
  while (left > 0) {
    const size_t n = left < sizeof block ? left : sizeof block;
    if (where == "out" || where == "both") write_all(1, block, n);
    if (where == "err" || where == "both") write_all(2, block, n);
    left -= n;
  }
  return 0;
}
