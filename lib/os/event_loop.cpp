#include "os/event_loop.hpp"

#include <cerrno>

#include "common.hpp"
#include "os/system_calls.hpp"

// Readiness turned into completions, for Linux and the POSIX backend alike:
// the same read and write calls the run would make itself, made here once
// the stream is ready.

namespace ductile::detail::os {

// Nothing is in flight between two turns of a readiness loop: an operation
// not yet completed takes what it is started with now (a write's bytes may
// have moved meanwhile). A completion system keeps the one in flight.
DUCTILE_INLINE void stream_operation::start_read(native_stream stream, read_target& target) noexcept {
  if (state_ == state::completed) return;
  state_ = state::started;
  direction_ = direction::read;
  stream_ = stream;
  target_ = &target;
}

DUCTILE_INLINE void stream_operation::start_write(native_stream stream, const char* data, std::size_t size) noexcept {
  if (state_ == state::completed) return;
  state_ = state::started;
  direction_ = direction::write;
  stream_ = stream;
  data_ = data;
  size_ = size;
}

DUCTILE_INLINE io_result stream_operation::take() noexcept {
  state_ = state::idle;
  return result_;
}

DUCTILE_INLINE void stream_operation::abandon() noexcept { state_ = state::idle; }

DUCTILE_INLINE void stream_operation::complete() noexcept {
  bool would_block = false;
  if (direction_ == direction::read) {
    const read_target::space space = target_->room();
    result_ = read_now(stream_, space.data, space.size, would_block);
    target_->filled(would_block ? 0 : result_.bytes);
  } else {
    result_ = write_now(stream_, data_, size_, would_block);
  }
  if (!would_block) state_ = state::completed;
}

DUCTILE_INLINE io_result read_now(native_stream stream, char* data, std::size_t size, bool& would_block) noexcept {
  io_result result;
  std::size_t got = 0;
  const auto error = sys::read_some(stream, data, size, got);
  would_block = error == std::errc::resource_unavailable_try_again;
  if (would_block) return result;
  // An error ends the stream as end of file does: EIO is a terminal whose
  // slaves have all closed, after everything written was read.
  result.bytes = got;
  result.end = error || got == 0;
  result.error = error;
  return result;
}

DUCTILE_INLINE io_result write_now(native_stream stream, const char* data, std::size_t size,
                                   bool& would_block) noexcept {
  io_result result;
  std::size_t done = 0;
  const auto error = sys::write_some(stream, data, size, done);
  would_block = error == std::errc::resource_unavailable_try_again;
  if (would_block) return result;
  result.bytes = done;
  result.end = static_cast<bool>(error);  // EPIPE: the reader has gone, which is its right
  result.error = error;
  return result;
}

DUCTILE_INLINE void wait_list::add(stream_operation& operation) {
  const short events = operation.direction_ == stream_operation::direction::read ? ready_to_read : ready_to_write;
  polled_.push_back(polled_stream{operation.stream_, events, 0});
  waiters_.push_back(waiter{&operation, nullptr});
}

DUCTILE_INLINE void wait_list::add(const process_handle& child, exit_watch& watch) {
  polled_.push_back(polled_stream{child.pidfd.get(), ready_to_read, 0});
  waiters_.push_back(waiter{nullptr, &watch});
}

DUCTILE_INLINE std::size_t wait_list::add_readable(native_stream stream) {
  polled_.push_back(polled_stream{stream, ready_to_read, 0});
  waiters_.push_back(waiter{nullptr, nullptr});
  return polled_.size() - 1;
}

DUCTILE_INLINE std::size_t wait_list::add_writable(native_stream stream) {
  polled_.push_back(polled_stream{stream, ready_to_write, 0});
  waiters_.push_back(waiter{nullptr, nullptr});
  return polled_.size() - 1;
}

DUCTILE_INLINE std::size_t wait_list::add_event(const sys::event& wake_up) {
  return add_readable(wake_up.readable.get());
}

DUCTILE_INLINE bool wait_list::deliver(native_stream stream, short events) noexcept {
  bool known = false;
  for (auto& p : polled_) {
    if (p.fd != stream) continue;
    p.revents = static_cast<short>(p.revents | (events & (p.events | ended_or_failed)));
    known = true;
  }
  return known;
}

DUCTILE_INLINE bool wait_list::any_ready() const noexcept {
  for (const auto& p : polled_)
    if (p.revents != 0) return true;
  return false;
}

DUCTILE_INLINE void wait_list::complete() noexcept {
  for (std::size_t i = 0; i < polled_.size(); ++i) {
    if (polled_[i].revents == 0) continue;
    polled_[i].revents = 0;
    const waiter& w = waiters_[i];
    if (w.operation != nullptr) {
      if (w.operation->started()) w.operation->complete();
    } else if (w.watch != nullptr) {
      w.watch->due = true;
    }
  }
}

DUCTILE_INLINE std::error_code wait_for(wait_list& list, std::chrono::nanoseconds timeout) noexcept {
  int ready = 0;
  return sys::poll_fds(list.polled().data(), list.polled().size(), timeout, ready);
}

}  // namespace ductile::detail::os
