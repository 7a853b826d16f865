// paced_lines DIR: writes a line to stdout and one to stderr, waits until the
// file DIR/go1 exists, writes the next two, waits for DIR/go2, then ends both
// streams with a line without newline. The parent learns of each line as it
// is written, or the test never creates the next go file.
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "write_all.hpp"

static void say(int fd, const std::string& text) { write_all(fd, text.data(), text.size()); }

static bool wait_for_file(const std::string& path) {
  struct stat info {};
  for (int i = 0; i < 30000; ++i) {  // at most 30 s
    if (stat(path.c_str(), &info) == 0) return true;
    usleep(1000);
  }
  return false;
}

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  const std::string dir = argv[1];
  say(1, "out 1\n");
  say(2, "err 1\r\n");
  if (!wait_for_file(dir + "/go1")) return 3;
  say(1, "out 2\n");
  say(2, "err 2\n");
  if (!wait_for_file(dir + "/go2")) return 3;
  say(1, "out last");
  say(2, "err last");
  return 0;
}
