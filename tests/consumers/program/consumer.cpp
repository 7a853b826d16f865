// The same small program for every way of consuming ductile: it must build
// and run a pipeline.
#include <cstdio>
#include <ductile/ductile.hpp>

int main() {
  using namespace ductile;
  const std::string text = (cmd("echo", "hello from a consumer") | cmd("tr", "a-z", "A-Z")).read();
  std::printf("%s\n", text.c_str());
  return text == "HELLO FROM A CONSUMER" ? 0 : 1;
}
