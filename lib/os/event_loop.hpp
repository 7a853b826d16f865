#pragma once
// What the run layer asks of an event loop, in terms both kinds of system
// serve: reads into memory the run owns, writes from it, and children's
// exits, each completed by the loop. The run never learns how: Linux and the
// POSIX backend wait for readiness (epoll or poll) and then make the read or
// the write themselves; Windows starts the operation and its completion port
// says when it is done. This is libuv's shape (its uv_read_start with an
// allocation callback): a read asks for its buffer only once bytes are there,
// so ten thousand quiet captures hold no memory.
//
// A turn of a loop: the run starts the operations it wants and adds them,
// with its children, to a wait_list (collect); the loop waits on the lists of
// every run it drives and marks what became ready (deliver); under the run's
// lock, complete() makes the reads and writes that can be made; the run then
// takes the results of what completed (dispatch).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <system_error>
#include <vector>

#include "os/descriptor.hpp"
#include "os/polled_stream.hpp"

namespace ductile::detail::sys {
struct event;
}

namespace ductile::detail::os {

// A stream as the system names it, held (owned and kept open) by the run:
// a descriptor here, a HANDLE on Windows. The run passes it through and
// never looks inside.
using native_stream = int;

// How a stream operation ended.
struct io_result {
  std::size_t bytes = 0;  // read into the buffer, or written
  // A read found the end of the stream (a terminal whose slaves have all
  // closed counts); a write found nobody reading any more. `error` says why
  // when it was not a plain end.
  bool end = false;
  std::error_code error;
};

// Memory for a read, asked for only when bytes are there to read. The run
// that owns it keeps it in place until the read completes.
class read_target {
 public:
  struct space {
    char* data;
    std::size_t size;
  };
  virtual space room() = 0;
  // How much of the last room the read filled (0: none, it would have waited).
  virtual void filled(std::size_t bytes) { (void)bytes; }

 protected:
  ~read_target() = default;
};

// One read or one write on a stream, asked for by a run and completed by the
// loop. A run starts what it wants at every turn; one still in flight on a
// completion system stays as it was started.
class stream_operation {
 public:
  enum class direction : unsigned char { read, write };

  void start_read(native_stream stream, read_target& target) noexcept;
  void start_write(native_stream stream, const char* data, std::size_t size) noexcept;
  bool started() const noexcept { return state_ == state::started; }
  bool completed() const noexcept { return state_ == state::completed; }
  // The result of a completed operation; the operation is free again.
  io_result take() noexcept;
  // The run gives up on it (its stream is closing): free again, nothing pending.
  void abandon() noexcept;

 private:
  friend class wait_list;
  enum class state : unsigned char { idle, started, completed };
  void complete() noexcept;

  state state_ = state::idle;
  direction direction_ = direction::read;
  native_stream stream_ = -1;
  read_target* target_ = nullptr;
  const char* data_ = nullptr;
  std::size_t size_ = 0;
  io_result result_;
};

// A child whose end a run waits for: `due` once the loop saw it may have
// exited (its pidfd became readable). Children held by pid have nothing to
// wait on; the run looks at them on its own timer.
struct exit_watch {
  bool due = false;
};

// What one run waits for in one turn: the operations it started, its
// children, and streams it only watches (a wake-up). Made by the run under
// its lock and kept by whoever drives it; the loop reads `polled()` in
// place, so a turn copies nothing.
class wait_list {
 public:
  void clear() noexcept {
    polled_.clear();
    waiters_.clear();
  }
  std::size_t size() const noexcept { return polled_.size(); }
  void reserve(std::size_t count) {
    polled_.reserve(count);
    waiters_.reserve(count);
  }
  void add(stream_operation& operation);
  void add(const process_handle& child, exit_watch& watch);
  // A stream watched for bytes to read, or for room to write, by a caller
  // that makes the read or write itself (a blocking wait of its own thread, a
  // wake-up); returns its place for ready().
  std::size_t add_readable(native_stream stream);
  std::size_t add_writable(native_stream stream);
  // A wake-up another thread signals; its waker drains it.
  std::size_t add_event(const sys::event& wake_up);
  bool ready(std::size_t place) const noexcept { return polled_[place].revents != 0; }
  bool any_ready() const noexcept;

  // --- for the loop
  std::vector<polled_stream>& polled() noexcept { return polled_; }
  const std::vector<polled_stream>& polled() const noexcept { return polled_; }
  // Records that `stream` showed `events`; whether anything here waited for it.
  bool deliver(native_stream stream, short events) noexcept;
  // Under the run's lock: makes the reads and writes whose streams became
  // ready, marks the children due, and forgets what the loop saw. An
  // operation whose stream was not ready after all (another reader took the
  // bytes) stays started.
  void complete() noexcept;

 private:
  struct waiter {
    stream_operation* operation;
    exit_watch* watch;
  };
  std::vector<polled_stream> polled_;
  std::vector<waiter> waiters_;  // one per polled_ entry
};

// Waits at most `timeout` (negative: forever) for anything on the list; EINTR
// returns with nothing ready. The loop of a caller's own thread (run(), a
// look at a started run): poll() over the list.
std::error_code wait_for(wait_list& list, std::chrono::nanoseconds timeout) noexcept;

// A read made at once, for a run that keeps reading while bytes come (after a
// completed read filled its buffer): `would_block` when there are none now.
io_result read_now(native_stream stream, char* data, std::size_t size, bool& would_block) noexcept;
// A write made at once: `would_block` when the stream has no room now.
io_result write_now(native_stream stream, const char* data, std::size_t size, bool& would_block) noexcept;

}  // namespace ductile::detail::os
