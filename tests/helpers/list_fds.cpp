// Prints the descriptors open in this process, one per line, ascending.
#include <dirent.h>
#include <fcntl.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <set>

int main() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return 2;
  const int own = dirfd(dir);
  std::set<int> fds;
  errno = 0;
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    const int fd = std::atoi(entry->d_name);
    if (fd != own) fds.insert(fd);
  }
  const bool listed = errno == 0;
  closedir(dir);
  // Where the directory cannot be read (a seccomp profile refusing getdents64),
  // every slot is asked instead.
  if (!listed)
    for (int fd = 0; fd < 65536; ++fd)
      if (fcntl(fd, F_GETFD) >= 0) fds.insert(fd);
  for (int fd : fds) std::printf("%d\n", fd);
  return 0;
}
