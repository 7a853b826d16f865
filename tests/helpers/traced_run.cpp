// Runs `echo traced` through ductile: with DUCTILE_TRACE=1 in its environment
// the trace line must appear on its stderr.
#include <ductile/ductile.hpp>

int main() {
  ductile::cmd("echo", "traced").stdout_null().run();
  return 0;
}
