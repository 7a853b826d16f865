// Prints the descriptors open in this process, one per line, ascending.
#include <dirent.h>

#include <cstdio>
#include <cstdlib>
#include <set>

int main() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return 2;
  const int own = dirfd(dir);
  std::set<int> fds;
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    const int fd = std::atoi(entry->d_name);
    if (fd != own) fds.insert(fd);
  }
  closedir(dir);
  for (int fd : fds) std::printf("%d\n", fd);
  return 0;
}
