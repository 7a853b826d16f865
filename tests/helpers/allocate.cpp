// allocate MEBIBYTES: touches that much memory, so its peak RSS is at least that.
#include <cstdlib>
#include <cstring>

int main(int argc, char** argv) {
  const std::size_t size = (argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 64) << 20;
  char* memory = static_cast<char*>(std::malloc(size));
  if (memory == nullptr) return 2;
  std::memset(memory, 1, size);
  volatile char keep = memory[size - 1];
  (void)keep;
  std::free(memory);
  return 0;
}
