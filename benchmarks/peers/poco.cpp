// POCO: Process::launch and wait; a Pipe read to its end.
#include <Poco/Pipe.h>
#include <Poco/Process.h>

#include "workload.hpp"

void peer::spawn_true() {
  Poco::ProcessHandle process = Poco::Process::launch("true", {});
  if (process.wait() != 0) std::abort();
}

std::size_t peer::capture(const std::vector<std::string>& argv) {
  Poco::Pipe out;
  const std::vector<std::string> args(argv.begin() + 1, argv.end());
  Poco::ProcessHandle process = Poco::Process::launch(argv[0], args, nullptr, &out, nullptr);
  growing_buffer bytes;
  for (;;) {
    char* into = bytes.free_space();
    const int got = out.readBytes(into, static_cast<int>(bytes.room()));
    if (got <= 0) break;
    bytes.filled(static_cast<std::size_t>(got));
  }
  out.close();
  process.wait();
  return bytes.size();
}

void peer::pipeline_true() {
  Poco::Pipe first, second;
  Poco::ProcessHandle a = Poco::Process::launch("true", {}, nullptr, &first, nullptr);
  Poco::ProcessHandle b = Poco::Process::launch("true", {}, &first, &second, nullptr);
  Poco::ProcessHandle c = Poco::Process::launch("true", {}, &second, nullptr, nullptr);
  first.close();
  second.close();
  if (a.wait() != 0 || b.wait() != 0 || c.wait() != 0) std::abort();
}

// POCO has no process pool: threads, each launching and waiting.
void peer::pool(long count, int parallel) { pool_of_threads(count, parallel); }

// No asynchronous interface: threads.
void peer::async_jobs(long count, int parallel) { pool_of_threads(count, parallel); }
