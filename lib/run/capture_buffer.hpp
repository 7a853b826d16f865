#pragma once
// The bytes captured from one stream. Small outputs live in one std::string.
// Large ones are read straight into big blocks advised for transparent huge
// pages and assembled into the final string once, at the end, a block at a
// time: nothing is copied while the capture grows, each page is faulted once
// per copy (capturing is bound by page faults, not by copying), and at most
// one block more than the capture is resident at once. A block is faulted in
// a read's worth at a time, just ahead of the reads, so a capture that ends
// early (the read that finds end of file) pays for no more than that.

#include <cstddef>
#include <string>
#include <vector>

#include "common.hpp"

namespace ductile::detail {

class capture_buffer {
 public:
  // Reads of this size keep the system calls per captured byte low.
  static constexpr std::size_t small_read = 64 * 1024;
  static constexpr std::size_t large_read = 1024 * 1024;
  // Past this many bytes the capture switches to blocks.
  static constexpr std::size_t small_limit = 1024 * 1024;
  static constexpr std::size_t block_size = 8 * 1024 * 1024;

  capture_buffer() = default;
  capture_buffer(capture_buffer&& other) noexcept;
  capture_buffer& operator=(capture_buffer&& other) noexcept;
  capture_buffer(const capture_buffer&) = delete;
  capture_buffer& operator=(const capture_buffer&) = delete;
  ~capture_buffer();

  struct space {
    char* data;
    std::size_t size;
  };
  // Where the next read goes; commit() says how much of it was filled.
  space room();
  void commit(std::size_t bytes) noexcept;
  std::size_t size() const noexcept { return size_; }
  // All the bytes, leaving the buffer empty.
  std::string take();

 private:
  struct block {
    char* data;
    std::size_t used;
    std::size_t faulted;  // the bytes from data faulted in ahead of the reads
  };
  void release_blocks() noexcept;

  std::string head_;  // the first bytes, up to small_limit; size() is its capacity in use
  std::size_t head_used_ = 0;
  std::vector<block> blocks_;
  std::size_t size_ = 0;
};

// Advises the kernel to back [data, data + size) with huge pages where whole
// aligned huge pages fit. Advice only: without THP nothing changes.
void advise_huge_pages(void* data, std::size_t size) noexcept;

}  // namespace ductile::detail
