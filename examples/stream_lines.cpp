#!/usr/bin/env ductile-script
// Shows a long command's output as it arrives, with the time since the start,
// as a build tool would; if the command fails, script_main reports it (with
// the last lines of its stderr) and exits with its status.
//
// usage: ./stream_lines.cpp [command [args...]]   (default: a short demo job)
#include <chrono>
#include <cstdio>
#include <ductile/ductile.hpp>
#include <string>
#include <vector>

using namespace ductile;

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  return script_main([&] {
    const expression job = args.empty()
                               ? sh("for step in fetch configure build test; do echo \"$step...\"; sleep 0.3; done")
                               : cmd(args.front(), std::vector<std::string>(args.begin() + 1, args.end()));
    const auto start = std::chrono::steady_clock::now();
    for (const std::string& line : job.stderr_capture().lines()) {
      const std::chrono::duration<double> since = std::chrono::steady_clock::now() - start;
      std::printf("[%6.2fs] %s\n", since.count(), line.c_str());
      std::fflush(stdout);
    }
  });
}
