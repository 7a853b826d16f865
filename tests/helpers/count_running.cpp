// count_running DIR [MICROSECONDS]: records how many instances run at once.
// Each instance creates DIR/running.PID, counts the running.* files, appends
// the count to DIR/peaks, waits (20 ms unless told), and removes its file.
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  const std::string dir = argv[1];
  const std::string mine = dir + "/running." + std::to_string(getpid());
  close(open(mine.c_str(), O_CREAT | O_WRONLY, 0644));
  int count = 0;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) count += std::strncmp(e->d_name, "running.", 8) == 0;
    closedir(d);
  }
  const std::string line = std::to_string(count) + "\n";
  const int peaks = open((dir + "/peaks").c_str(), O_CREAT | O_WRONLY | O_APPEND, 0644);
  if (write(peaks, line.data(), line.size()) < 0) return 3;
  close(peaks);
  usleep(argc > 2 ? static_cast<useconds_t>(std::atoi(argv[2])) : 20000);
  unlink(mine.c_str());
  return 0;
}
