// POCO: Process::launch and wait; a Pipe read to its end.
#include <Poco/Pipe.h>
#include <Poco/Process.h>

#include "workload.hpp"

void peer::spawn_true() {
  Poco::ProcessHandle process = Poco::Process::launch("true", {});
  process.wait();
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
