// ductile: run() and a captured stdout.
#include <ductile/ductile.hpp>

#include "workload.hpp"

void peer::spawn_true() { ductile::cmd("true").run(); }

std::size_t peer::capture(const std::vector<std::string>& argv) {
  const std::vector<std::string> args(argv.begin() + 1, argv.end());
  return ductile::cmd(argv[0], args).stdout_capture().run().stdout_bytes.size();
}
