// The capture buffer on its own: bytes in through room()/commit(), out
// through take(), across the head, block boundaries and partial reads.
#if __has_include("run/capture_buffer.hpp")
#include "os/system_calls.hpp"
#include "run/capture_buffer.hpp"
#endif  // else the single header has it inline
#include <algorithm>
#include <cstring>
#include <string>

#include "support.hpp"

using ductile::detail::capture_buffer;

namespace {

// Byte i of the stream: a pattern whose period (251, a prime) is no divisor
// of any block or read size, so a piece in the wrong place shows.
char byte_at(std::size_t i) { return static_cast<char>('a' + i % 251 % 26 + i / 251 % 2); }

// Fills `buffer` with `total` bytes, at most `chunk` per commit.
void fill(capture_buffer& buffer, std::size_t total, std::size_t chunk) {
  std::size_t written = 0;
  while (written < total) {
    const auto space = buffer.room();
    REQUIRE(space.size > 0);
    const std::size_t n = std::min({space.size, chunk, total - written});
    for (std::size_t i = 0; i < n; ++i) space.data[i] = byte_at(written + i);
    buffer.commit(n);
    written += n;
  }
}

bool is_pattern(const std::string& bytes) {
  for (std::size_t i = 0; i < bytes.size(); ++i)
    if (bytes[i] != byte_at(i)) return false;
  return true;
}

}  // namespace

TEST_CASE("a capture comes out whole at every size around the head and the blocks") {
  const std::size_t head = capture_buffer::small_limit;
  const std::size_t block = capture_buffer::block_size;
  for (const std::size_t total : {std::size_t{0}, std::size_t{1}, head - 1, head, head + 1, head + block,
                                  head + block + 4097, head + 3 * block - 1, head + 3 * block + 12345}) {
    for (const std::size_t chunk : {std::size_t{4096}, std::size_t{65536 + 7}, capture_buffer::large_read}) {
      CAPTURE(total);
      CAPTURE(chunk);
      capture_buffer buffer;
      fill(buffer, total, chunk);
      CHECK(buffer.size() == total);
      const std::string bytes = buffer.take();
      CHECK(bytes.size() == total);
      CHECK(is_pattern(bytes));
      CHECK(buffer.size() == 0);
      CHECK(buffer.take().empty());
    }
  }
}

TEST_CASE("a capture buffer is reusable after take, and movable while filling") {
  capture_buffer first;
  fill(first, capture_buffer::small_limit + capture_buffer::block_size / 2, capture_buffer::large_read);
  capture_buffer moved(std::move(first));
  fill(moved, 0, 1);
  CHECK(moved.take().size() == capture_buffer::small_limit + capture_buffer::block_size / 2);
  fill(moved, 5000, 1000);
  const std::string again = moved.take();
  CHECK(again.size() == 5000);
  CHECK(is_pattern(again));
}

#if defined(DUCTILE_LINUX_BACKEND) && DUCTILE_LINUX_BACKEND
TEST_CASE("free huge pages are counted from /proc/buddyinfo's text, order 9 and above") {
  using ductile::detail::sys::free_huge_pages;
  const std::string text =
      "Node 0, zone      DMA      0      0      0      0      0      0      0      0      1      1      3 \n"
      "Node 0, zone    DMA32      1      2      2      2      1      2      0      3      3      1    753 \n"
      "Node 0, zone   Normal  30775  18314  15166   9376   5693   2918   1119    316    156     70    513 \n";
  // Order 9 counts one block each, order 10 two: 1 + 2*3 + 1 + 2*753 + 70 + 2*513.
  CHECK(free_huge_pages(text.data(), text.size()) == 1 + 6 + 1 + 1506 + 70 + 1026);
  // Memory cut into small pieces: nothing at order 9 or 10.
  const std::string fragmented = "Node 0, zone   Normal  90000  40000  1000  20  5  0  0  0  0  0  0\n";
  CHECK(free_huge_pages(fragmented.data(), fragmented.size()) == 0);
  CHECK(free_huge_pages("", 0) == 0);
  const std::string garbled = "Node 0, zone Normal 1 2 x 4\n";
  CHECK(free_huge_pages(garbled.data(), garbled.size()) == 0);
}
#endif
