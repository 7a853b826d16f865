#include "run/input_channel.hpp"

#include <chrono>
#include <ductile/handle.hpp>

#include "os/event_loop.hpp"
#include "os/system_calls.hpp"

namespace ductile {

namespace detail {

DUCTILE_INLINE void input_channel::attach(unique_fd write_end) {
  std::lock_guard<std::mutex> lock(mutex_);
  write_end_ = closed_ ? unique_fd() : std::move(write_end);
}

DUCTILE_INLINE void input_channel::close() noexcept {
  std::lock_guard<std::mutex> lock(mutex_);
  closed_ = true;
  write_end_.reset();
}

DUCTILE_INLINE void input_channel::set_drain(drain_while_writing* drain) noexcept {
  std::lock_guard<std::mutex> lock(mutex_);
  drain_ = drain;
}

DUCTILE_INLINE bool input_channel::write(std::string_view bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  while (write_end_) {
    if (bytes.empty()) return true;
    std::size_t done = 0;
    const auto error = sys::write_some(write_end_.get(), bytes.data(), bytes.size(), done);
    if (!error) {
      bytes.remove_prefix(done);
      continue;
    }
    if (error != std::errc::resource_unavailable_try_again) {
      write_end_.reset();  // EPIPE: the child closed its end, for good
      return false;
    }
    // Full: wait for room, and meanwhile keep the output flowing that the
    // caller would otherwise read only after this returns.
    os::wait_list list;
    list.add_writable(write_end_.get());
    const int drain_fd = drain_ != nullptr ? drain_->drain_fd() : -1;
    const std::size_t draining = drain_fd >= 0 ? list.add_readable(drain_fd) : list.size();
    if (os::wait_for(list, std::chrono::nanoseconds(-1))) {
      write_end_.reset();
      return false;
    }
    if (draining < list.size() && list.ready(draining)) drain_->drain();
  }
  return false;
}

}  // namespace detail

DUCTILE_INLINE input_stream::input_stream(std::shared_ptr<detail::input_channel> channel) noexcept
    : channel_(std::move(channel)) {}

DUCTILE_INLINE bool input_stream::write(std::string_view bytes) { return channel_ && channel_->write(bytes); }

DUCTILE_INLINE void input_stream::close() {
  if (channel_) channel_->close();
}

}  // namespace ductile
