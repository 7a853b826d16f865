// Shows a long command's output as it arrives, with the time since the start,
// and keeps its stderr for the report if it fails, as a build tool would.
//
// usage: stream_lines [command [args...]]   (default: a short demo script)

#include <chrono>
#include <cstdio>
#include <ductile/ductile.hpp>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  using namespace ductile;
  using clock = std::chrono::steady_clock;
  std::vector<std::string> args(argv + 1, argv + argc);
  const expression job = args.empty()
                             ? sh("for step in fetch configure build test; do echo \"$step...\"; sleep 0.3; done")
                             : cmd(args.front(), std::vector<std::string>(args.begin() + 1, args.end()));
  const auto start = clock::now();
  try {
    for (const std::string& line : job.stderr_capture().lines()) {
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - start).count();
      std::printf("[%6.2fs] %s\n", static_cast<double>(ms) / 1000.0, line.c_str());
      std::fflush(stdout);
    }
  } catch (const status_error& e) {
    std::fprintf(stderr, "stream_lines: %s\n%s", e.what(), e.output().stderr_bytes.c_str());
    return 1;
  } catch (const error& e) {
    std::fprintf(stderr, "stream_lines: %s\n", e.what());
    return 1;
  }
  return 0;
}
