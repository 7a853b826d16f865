// Prints each argument on its own line as "<length>:<bytes>", so tests can
// assert exact argv, including empty arguments and embedded newlines.
#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) std::printf("%zu:%s\n", std::strlen(argv[i]), argv[i]);
  return 0;
}
