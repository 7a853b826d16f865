// spawn_with_open_fds LIST_FDS: opens inheritable descriptors at 3 and 5000,
// lowers the soft RLIMIT_NOFILE below 5000, then runs LIST_FDS through
// ductile and prints what it saw (the child's open descriptors).
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <ductile/ductile.hpp>
#include <filesystem>

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const int low = open("/dev/null", O_RDONLY);
  if (low < 0 || dup2(low, 5000) != 5000) return 3;
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = 1024;
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) return 4;
  try {
    std::printf("%s\n", ductile::cmd(std::filesystem::path(argv[1])).read().c_str());
  } catch (const std::exception& e) {
    std::printf("error: %s\n", e.what());
    return 1;
  }
  return 0;
}
