// Boost.Process v1 (Boost 1.74, Debian's libboost-dev): bp::child with a
// PATH search, and a bp::pipe read to its end.
#include <boost/process.hpp>

#include "workload.hpp"

namespace bp = boost::process;

void peer::spawn_true() {
  bp::child child(bp::search_path("true"));
  child.wait();
  if (child.exit_code() != 0) std::abort();
}

std::size_t peer::capture(const std::vector<std::string>& argv) {
  bp::pipe out;
  const std::vector<std::string> args(argv.begin() + 1, argv.end());
  bp::child child(bp::search_path(argv[0]), bp::args(args), bp::std_out > out);
  growing_buffer bytes;
  for (;;) {
    char* into = bytes.free_space();
    const int got = out.read(into, static_cast<int>(bytes.room()));
    if (got <= 0) break;
    bytes.filled(static_cast<std::size_t>(got));
  }
  child.wait();
  return bytes.size();
}

void peer::pipeline_true() {
  bp::pipe first, second;
  const auto program = bp::search_path("true");
  bp::child a(program, bp::std_out > first);
  bp::child b(program, bp::std_in<first, bp::std_out> second);
  bp::child c(program, bp::std_in < second);
  first.close();
  second.close();
  a.wait();
  b.wait();
  c.wait();
  if (a.exit_code() != 0 || b.exit_code() != 0 || c.exit_code() != 0) std::abort();
}

// Boost.Process has no pool: threads, each spawning and waiting in turn.
void peer::pool(long count, int parallel) { pool_of_threads(count, parallel); }

// v1's async_wait needs an io_context per child group; its users reach for
// threads, as here.
void peer::async_jobs(long count, int parallel) { pool_of_threads(count, parallel); }
