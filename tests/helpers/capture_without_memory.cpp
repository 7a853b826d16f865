// capture_without_memory WRITE_BYTES: with RLIMIT_AS at 512 MiB, captures
// 2 GB from WRITE_BYTES once with run() and once with start().wait(), and
// prints how each ended. Neither may take the process down.
#include <sys/resource.h>

#include <cstdio>
#include <ductile/ductile.hpp>
#include <filesystem>
#include <new>

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  rlimit limit{512UL << 20, 512UL << 20};
  if (setrlimit(RLIMIT_AS, &limit) != 0) return 3;
  const auto writer = ductile::cmd(std::filesystem::path(argv[1]), "2000000000").stdout_capture();
  try {
    writer.run();
    std::puts("run: finished");
  } catch (const std::bad_alloc&) {
    std::puts("run: bad_alloc");
  }
  try {
    auto h = writer.start();
    h.wait();
    std::puts("wait: finished");
  } catch (const std::bad_alloc&) {
    std::puts("wait: bad_alloc");
  }
  return 0;
}
