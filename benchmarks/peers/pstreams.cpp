// PStreams: redi::ipstream over an argv (no shell), read to its end.
#include <pstreams/pstream.h>

#include "workload.hpp"

void peer::spawn_true() {
  redi::ipstream child("true", std::vector<std::string>{"true"});
  child.close();
  if (!child.rdbuf()->exited() || child.rdbuf()->status() != 0) std::abort();
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

// PStreams connects processes only through a shell: one `sh -c` running the
// pipeline, which is how its users write one.
void peer::pipeline_true() {
  redi::ipstream child("true | true | true");
  child.close();
  if (!child.rdbuf()->exited() || child.rdbuf()->status() != 0) std::abort();
}

// No pool: threads, each with its own ipstream.
void peer::pool(long count, int parallel) { pool_of_threads(count, parallel); }

// No asynchronous interface: threads.
void peer::async_jobs(long count, int parallel) { pool_of_threads(count, parallel); }
