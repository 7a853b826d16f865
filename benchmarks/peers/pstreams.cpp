// PStreams: redi::ipstream over an argv (no shell), read to its end.
#include <pstreams/pstream.h>

#include "workload.hpp"

void peer::spawn_true() {
  redi::ipstream child("true", std::vector<std::string>{"true"});
  child.close();
}

std::size_t peer::capture(const std::vector<std::string>& argv) {
  redi::ipstream child(argv[0], argv, redi::pstreams::pstdout);
  growing_buffer bytes;
  for (;;) {
    char* into = bytes.free_space();
    child.read(into, static_cast<std::streamsize>(bytes.room()));
    const std::streamsize got = child.gcount();
    if (got <= 0) break;
    bytes.filled(static_cast<std::size_t>(got));
  }
  child.close();
  return bytes.size();
}
