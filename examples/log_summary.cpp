#!/usr/bin/env ductile-script
// Which clients caused the most server errors? The shell version is
//   grep ' 5[0-9][0-9] ' access.log | cut -d' ' -f1 | sort | uniq -c | sort -rn | head -n 5
// Here the pipeline is a value: no quoting traps, errors by default, and the
// result comes back as lines. Run it like a script: ./log_summary.cpp access.log
#include <cstdio>
#include <ductile/ductile.hpp>
#include <string>

using namespace ductile;

int main(int argc, char** argv) {
  const std::string log = argc > 1 ? argv[1] : "access.log";
  return script_main([&] {
    // grep's 1 means "no line matched": for this report a result, not an error.
    const auto server_errors = cmd("grep", " 5[0-9][0-9] ", log).stdin_null().ok_codes({0, 1});
    const auto top_clients = server_errors | cmd("cut", "-d", " ", "-f1") | cmd("sort") | cmd("uniq", "-c") |
                             cmd("sort", "-rn") | cmd("head", "-n", 5);
    const std::string total = (server_errors | cmd("wc", "-l")).read();
    if (total == "0") {
      std::printf("no server errors in %s\n", log.c_str());
      return;
    }
    std::printf("clients with the most server errors in %s:\n", log.c_str());
    for (const std::string& line : top_clients.lines()) std::printf("  %s\n", line.c_str());
    std::printf("%s server errors in all (pipeline: %s)\n", total.c_str(), fmt::format("{}", top_clients).c_str());
  });
}
