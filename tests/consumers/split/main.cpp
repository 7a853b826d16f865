// A program of three files: this one and words.cpp use ductile, ductile.cpp
// compiles its implementation (or, with -DDUCTILE_HEADER_ONLY everywhere,
// every file carries it inline).
#include <cstdio>

#include "words.hpp"

int main() {
  using namespace ductile;
  const std::string text = (cmd("echo", "hello from a consumer") | cmd("tr", "a-z", "A-Z")).read();
  const std::string words = count_words(text);
  std::printf("%s (%s words)\n", text.c_str(), words.c_str());
  return text == "HELLO FROM A CONSUMER" && words == "4" ? 0 : 1;
}
