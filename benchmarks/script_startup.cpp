// What running a C++ file as a script costs: ductile-script's first run (with
// and without its precompiled header cached) and the time a cached run adds to
// the script's own, next to the same script written in bash.
//
// usage: script_startup [rounds]
#include <stdlib.h>

#include <cstdio>
#include <ductile/ductile.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "paired.hpp"

namespace {

namespace fs = std::filesystem;
using namespace ductile;

// A 50-line script of the kind people port from bash: a report over a log
// through several pipelines.
const char* const script_text = R"script(#!/usr/bin/env ductile-script
// Summarises an access log: requests, status classes, busiest paths, clients.
#include <ductile/ductile.hpp>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

using namespace ductile;

namespace {

std::string field(const std::string& line, int index) {
  std::size_t start = 0;
  for (int i = 0; i < index; ++i) start = line.find(' ', start) + 1;
  return line.substr(start, line.find(' ', start) - start);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string log = argc > 1 ? argv[1] : "access.log";
  return script_main([&] {
    const std::string requests = cmd("wc", "-l").stdin_path(log).read();
    std::printf("%s requests\n", requests.c_str());
    if (requests == "0") {
      std::printf("nothing else to report\n");
      return;
    }
    std::map<std::string, int> classes;
    for (const std::string& line : cmd("cut", "-d", " ", "-f9", log).lines())
      ++classes[line.substr(0, 1) + "xx"];
    for (const auto& [name, count] : classes) std::printf("  %s: %d\n", name.c_str(), count);
    std::printf("busiest paths:\n");
    const auto paths = cmd("cut", "-d", "\"", "-f2", log) | cmd("cut", "-d", " ", "-f2") | cmd("sort") |
                       cmd("uniq", "-c") | cmd("sort", "-rn") | cmd("head", "-n", 3);
    for (const std::string& line : paths.lines()) std::printf("  %s\n", line.c_str());
    const std::string clients = (cmd("cut", "-d", " ", "-f1", log) | cmd("sort", "-u") | cmd("wc", "-l")).read();
    std::printf("%s clients\n", clients.c_str());
    std::vector<std::string> errors;
    for (const std::string& line : cmd("grep", " 5[0-9][0-9] ", log).ok_codes({0, 1}).lines())
      errors.push_back(field(line, 0));
    std::printf("%zu server errors", errors.size());
    if (!errors.empty()) std::printf(", the last from %s", errors.back().c_str());
    std::printf("\n");
    const output bytes = cmd("awk", "{ sum += $10 } END { print sum }", log).stdout_capture().run();
    std::printf("%s bytes served\n", bytes.stdout_bytes.substr(0, bytes.stdout_bytes.size() - 1).c_str());
  });
}
)script";

const char* const bash_text = R"script(#!/usr/bin/env bash
# The same report in bash.
set -euo pipefail
log=${1:-access.log}
echo "$(wc -l < "$log") requests"
cut -d' ' -f9 "$log" | cut -c1 | sort | uniq -c | while read -r count class; do
  echo "  ${class}xx: $count"
done
echo "busiest paths:"
cut -d'"' -f2 "$log" | cut -d' ' -f2 | sort | uniq -c | sort -rn | head -n 3 | sed 's/^/  /'
echo "$(cut -d' ' -f1 "$log" | sort -u | wc -l) clients"
errors=$(grep ' 5[0-9][0-9] ' "$log" | cut -d' ' -f1 || true)
count=$(printf '%s' "$errors" | grep -c . || true)
if [ "$count" -gt 0 ]; then
  echo "$count server errors, the last from $(printf '%s\n' "$errors" | tail -n1)"
else
  echo "0 server errors"
fi
echo "$(awk '{ sum += $10 } END { print sum }' "$log") bytes served"
)script";

void write(const fs::path& file, const std::string& text) {
  std::ofstream(file) << text;
  fs::permissions(file, fs::perms::owner_all);
}

// Per operation: compare() has divided both sides by the operations.
double median_difference(const bench::comparison& c) {
  std::vector<double> differences;
  for (std::size_t i = 0; i < c.ours.size(); ++i) differences.push_back(c.ours[i] - c.baseline[i]);
  return bench::median(differences);
}

}  // namespace

int main(int argc, char** argv) {
  const int rounds = bench::argument(argc, argv, 1, 15);
  char pattern[] = "/tmp/script_startup.XXXXXX";
  const fs::path work = ::mkdtemp(pattern);
  const fs::path script = work / "report.cpp", bash = work / "report.sh", log = work / "access.log";
  write(script, script_text);
  write(bash, bash_text);
  {
    std::ofstream out(log);
    for (int i = 0; i < 2000; ++i)
      out << "10.0." << i % 7 << "." << i % 13 << " - - [30/Nov/2026:10:00:00] \"GET /page" << i % 11 << " HTTP/1.1\" "
          << (i % 17 == 0  ? 503
              : i % 5 == 0 ? 404
                           : 200)
          << " " << i * 3 << "\n";
  }
  const std::string tool = DUCTILE_SCRIPT_COMMAND;
  const auto in_cache = [&](const fs::path& cache) {
    return [=](expression e) { return e.env("XDG_CACHE_HOME", cache.string()).stdout_null(); };
  };
  std::printf(
      "ductile-script on a %d-line script (%s), %d rounds\n",
      static_cast<int>(std::count(script_text, script_text + std::char_traits<char>::length(script_text), '\n')),
      tool.c_str(), rounds);

  // First runs: an empty cache (the precompiled header is built too), then
  // edited scripts with the header cached.
  std::vector<double> empty_cache, edited;
  for (int round = 0; round < std::max(3, rounds / 5); ++round) {
    const fs::path cache = work / ("cold-" + std::to_string(round));
    empty_cache.push_back(bench::time_of([&] { in_cache(cache)(cmd(tool, script, log)).run(); }));
  }
  const fs::path cache = work / "cache";
  in_cache(cache)(cmd(tool, script, log)).run();
  for (int round = 0; round < rounds; ++round) {
    write(script, std::string(script_text) + "// edit " + std::to_string(round) + "\n");
    edited.push_back(bench::time_of([&] { in_cache(cache)(cmd(tool, script, log)).run(); }));
  }
  std::printf("first run, empty cache (builds the header)   %8.0f ms  (median of %zu)\n",
              bench::median(empty_cache) * 1e3, empty_cache.size());
  std::printf("first run of an edited script                %8.0f ms  (median of %d)\n", bench::median(edited) * 1e3,
              rounds);

  // Cached runs: through ductile-script, against the cached binary run directly.
  write(script, script_text);
  in_cache(cache)(cmd(tool, script, log)).run();
  fs::path binary;
  for (const auto& entry : fs::directory_iterator(cache / "ductile-script"))
    if (entry.is_regular_file() && entry.path().filename().string().size() == 16 &&
        fs::last_write_time(entry) >= (binary.empty() ? fs::file_time_type::min() : fs::last_write_time(binary)))
      binary = entry.path();
  const int runs = 10;  // per round and side: a run is a few ms, the machine's jitter about one
  const auto repeat = [&](expression e) {
    return [=] {
      for (int i = 0; i < runs; ++i) e.run();
    };
  };
  const auto through_tool =
      bench::compare("cached run vs the binary itself", rounds, runs, repeat(in_cache(cache)(cmd(tool, script, log))),
                     repeat(in_cache(cache)(cmd(binary, log))));
  std::printf("  a cached run adds %.2f ms to the script's own %.2f ms\n", median_difference(through_tool) * 1e3,
              bench::median(through_tool.baseline) * 1e3);
  bench::compare("cached script vs bash", rounds, runs, repeat(in_cache(cache)(cmd(tool, script, log))),
                 repeat(in_cache(cache)(cmd("bash", bash, log))));
  // Both print the same report.
  const std::string ours = cmd(tool, script, log).env("XDG_CACHE_HOME", cache.string()).read();
  const std::string theirs = cmd("bash", bash, log).read();
  if (ours != theirs) std::printf("the reports differ:\n%s\n---\n%s\n", ours.c_str(), theirs.c_str());
  fs::remove_all(work);
  return ours == theirs ? 0 : 1;
}
