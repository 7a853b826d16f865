#include "run/capture_buffer.hpp"

#include <cstdint>
#include <cstdlib>
#include <new>
#include <utility>

#include "os/system_calls.hpp"

namespace ductile::detail {

DUCTILE_INLINE capture_buffer::capture_buffer(capture_buffer&& other) noexcept
    : head_(std::move(other.head_)),
      head_used_(std::exchange(other.head_used_, 0)),
      blocks_(std::move(other.blocks_)),
      size_(std::exchange(other.size_, 0)) {
  other.blocks_.clear();
}

DUCTILE_INLINE capture_buffer& capture_buffer::operator=(capture_buffer&& other) noexcept {
  if (this != &other) {
    release_blocks();
    head_ = std::move(other.head_);
    head_used_ = std::exchange(other.head_used_, 0);
    blocks_ = std::move(other.blocks_);
    other.blocks_.clear();
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

DUCTILE_INLINE capture_buffer::~capture_buffer() { release_blocks(); }

DUCTILE_INLINE void capture_buffer::release_blocks() noexcept {
  for (const auto& b : blocks_) sys::free_aligned(b.data);
  blocks_.clear();
}

DUCTILE_INLINE capture_buffer::space capture_buffer::room() {
  if (blocks_.empty() && head_used_ + small_read <= small_limit) {
    // Growing a std::string zero-fills the new part; at these sizes that is cheap.
    if (head_.size() < head_used_ + small_read) head_.resize(head_used_ + small_read);
    return {head_.data() + head_used_, small_read};
  }
  if (blocks_.empty() || blocks_.back().used == block_size) {
    blocks_.reserve(blocks_.size() + 1);
    void* memory = sys::allocate_aligned(sys::huge_page, block_size);
    if (memory == nullptr) throw std::bad_alloc();
    sys::advise_huge_pages(memory, block_size);
    blocks_.push_back(block{static_cast<char*>(memory), 0, 0});
  }
  block& last = blocks_.back();
  const std::size_t left = block_size - last.used;
  const std::size_t size = left < large_read ? left : large_read;
  while (last.faulted < last.used + size) {
    sys::prefault(last.data + last.faulted, large_read);
    last.faulted += large_read;
  }
  return {last.data + last.used, size};
}

DUCTILE_INLINE void capture_buffer::commit(std::size_t bytes) noexcept {
  if (blocks_.empty())
    head_used_ += bytes;
  else
    blocks_.back().used += bytes;
  size_ += bytes;
}

DUCTILE_INLINE std::string capture_buffer::take() {
  if (size_ == 0) return std::string();  // the common case: nothing was captured
  head_.resize(head_used_);
  std::string bytes;
  if (blocks_.empty()) {
    bytes = std::move(head_);
  } else {
    bytes.reserve(size_);
    sys::advise_huge_pages(bytes.data(), size_);
    bytes.append(head_);
    // Each block's part of the string is faulted in just before the block is
    // copied there and freed: at most one block more than the capture is
    // resident at once, and the pages a freed block gives back serve the
    // next part, where faulting the whole string first would need twice the
    // capture in fresh memory.
    for (auto& b : blocks_) {
      sys::prefault(bytes.data() + bytes.size(), b.used);
      bytes.append(b.data, b.used);
      sys::free_aligned(b.data);
      b.data = nullptr;
    }
    blocks_.clear();
  }
  head_.clear();
  head_used_ = 0;
  size_ = 0;
  return bytes;
}

}  // namespace ductile::detail
