// Which clients caused the most errors? The shell version is
//   grep ' 5[0-9][0-9] ' access.log | cut -d' ' -f1 | sort | uniq -c | sort -rn | head -n 5
// Here the pipeline is a value: no quoting traps, errors by default, and the
// result comes back as lines.
//
// usage: log_summary [access.log]

#include <cstdio>
#include <ductile/ductile.hpp>
#include <string>

int main(int argc, char** argv) {
  using namespace ductile;
  const std::string log = argc > 1 ? argv[1] : "access.log";
  try {
    const auto server_errors = cmd("grep", " 5[0-9][0-9] ", log).stdin_null();
    const auto top_clients = server_errors | cmd("cut", "-d", " ", "-f1") | cmd("sort") | cmd("uniq", "-c") |
                             cmd("sort", "-rn") | cmd("head", "-n", 5);
    std::printf("clients with the most server errors in %s:\n", log.c_str());
    for (const std::string& line : top_clients.lines()) std::printf("  %s\n", line.c_str());
    const auto total = (server_errors | cmd("wc", "-l")).read();
    std::printf("%s server errors in all (pipeline: %s)\n", total.c_str(), fmt::format("{}", top_clients).c_str());
  } catch (const status_error& e) {
    // grep exits 1 when nothing matched: for this report that is a result, not an error.
    if (e.output().status.code() == 1) {
      std::printf("no server errors in %s\n", log.c_str());
      return 0;
    }
    std::fprintf(stderr, "log_summary: %s\n", e.what());
    return 1;
  } catch (const error& e) {
    std::fprintf(stderr, "log_summary: %s\n", e.what());
    return 1;
  }
  return 0;
}
