#pragma once
/// \file
/// Handles to started expressions, and the lazy range of output lines.

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
// <string> also declares the iterator tags (libstdc++ and libc++ alike);
// all of <iterator> would cost more than the rest of this header.
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "native.hpp"
#include "output.hpp"

namespace ductile {

#if defined(__linux__)
namespace proc {
struct process_sample;  // <ductile/proc.hpp>
}
#endif

namespace detail {
class execution;
class stdout_reader;
class input_channel;

// From now until `deadline` on its own clock, and never negative.
template <class Clock, class Duration>
std::chrono::nanoseconds time_left(std::chrono::time_point<Clock, Duration> deadline) {
  auto left = deadline - Clock::now();
  if (left < decltype(left)::zero()) left = decltype(left)::zero();
  return std::chrono::duration_cast<std::chrono::nanoseconds>(left);
}
}  // namespace detail

class expression;
struct pty_size;

/// The caller's end of a `stdin_pipe()`. Copies share the pipe.
class input_stream {
 public:
  input_stream() = default;
  /// Blocks until every byte is written; the run's outputs keep draining
  /// meanwhile. False once the child has closed its end (never SIGPIPE), or
  /// after close().
  bool write(std::string_view bytes);
  /// The child sees end of file once every process holding the pipe has it closed.
  void close();

  explicit input_stream(std::shared_ptr<detail::input_channel> channel) noexcept;
  bool is_attached() const noexcept { return channel_ != nullptr; }

 private:
  std::shared_ptr<detail::input_channel> channel_;
};

/// A running expression, driven by the shared background thread.
/// Not copyable; moving transfers the responsibility to reap.
class handle {
 public:
  handle(handle&&) noexcept = default;
  handle& operator=(handle&& other) noexcept;
  handle(const handle&) = delete;
  handle& operator=(const handle&) = delete;
  /// Kills and reaps the expression if it is still running and not detached.
  ~handle();

  /// Blocks until everything finished. Repeatable; throws as run() would.
  /// Closes the stdin_pipe(), if any, first.
  const output& wait();
  /// nullptr while anything still runs; never blocks on a process.
  const output* try_wait();
  /// nullptr if still running after `timeout`; does not kill. Closes the
  /// stdin_pipe(), if any, first.
  const output* wait_for(std::chrono::nanoseconds timeout);
  template <class Clock, class Duration>
  const output* wait_until(std::chrono::time_point<Clock, Duration> deadline) {
    return wait_for(detail::time_left(deadline));
  }
  /// The caller's end of the expression's stdin_pipe(); throws ductile::error
  /// if it has none.
  input_stream& input();
  /// Sets the window size of the run's pty() terminals (SIGWINCH to their
  /// foreground groups); nothing without one.
  void resize(pty_size size);
  /// SIGKILL to every live process, forbids pending `then` sides, and reaps.
  void kill();
  /// Sends `signal` to every live process.
  void send_signal(int signal);
  /// Pids of the processes started so far, left to right.
  std::vector<process_id> pids() const;
#if defined(__linux__)
  /// A sample of each live process of the run, left to right, each followed by
  /// its descendants (breadth first): name, state, memory, CPU time, and CPU %
  /// since the previous call on this run (0 at the first). Include
  /// <ductile/proc.hpp> to use the result.
  std::vector<proc::process_sample> processes() const;
#endif
  /// The destructor will not kill; the background thread still reaps. When the
  /// handle goes, a stdin_pipe() input nobody can write any more is closed.
  /// A pool's handles come detached: the pool owns its jobs.
  void detach();
  /// A descriptor that becomes readable (and stays so) when the expression has
  /// finished, for epoll, asio or libuv loops. Owned by the handle: do not close it.
  int completion_fd() const;
  /// The same on every system: the descriptor of completion_fd() on POSIX, an
  /// event that becomes signalled (and stays so) on Windows. Owned by the handle.
  native_handle_type completion_handle() const;

  explicit handle(std::shared_ptr<detail::execution> execution) noexcept;

 private:
  std::shared_ptr<detail::execution> execution_;
  input_stream input_;
  bool detached_ = false;
};

class line_range;

class reader_handle;
namespace detail {
// For event loops (<ductile/asio.hpp>): the pipe the reader reads, readable
// when output or its end arrives; -1 once the end was read (the run's
// completion_fd() then tells when the status is there). Not to be read or closed.
int reader_output_fd(const reader_handle& reader) noexcept;
#ifdef _WIN32
// A Win32 event set while the reader's output can be read without waiting
// (null once the output has ended): what Asio waits on there.
native_handle_type reader_output_event(const reader_handle& reader) noexcept;
#endif
}  // namespace detail

/// A running expression whose stdout (or, from stderr_reader(), stderr) the
/// caller reads incrementally. Everything a handle does, plus reading.
/// Copies of `lines()` share the stream; the last owner kills and reaps if
/// still running, unless detached.
class reader_handle {
 public:
  /// Reads up to `n` bytes, blocking; 0 at end of output. At the end a checked
  /// failure throws status_error, once.
  std::size_t read(char* buffer, std::size_t n);
  /// As read(), but waits at most `timeout` for bytes: empty on timeout, and
  /// nothing is lost.
  std::optional<std::size_t> read_for(char* buffer, std::size_t n, std::chrono::nanoseconds timeout);
  /// The next line (without `\n` or `\r\n`), waiting at most `timeout`: empty
  /// on timeout (a partial line stays buffered), false at end of output (and a
  /// checked failure throws, once), true with `line` filled.
  std::optional<bool> read_line_for(std::string& line, std::chrono::nanoseconds timeout);
  /// The remaining output as lines.
  line_range lines();
  /// Blocks until everything finished, keeping the unread output for read();
  /// throws as run() would. Closes the stdin_pipe(), if any, first.
  const output& wait();
  const output* try_wait();
  /// nullptr if still running after `timeout`; does not kill.
  const output* wait_for(std::chrono::nanoseconds timeout);
  template <class Clock, class Duration>
  const output* wait_until(std::chrono::time_point<Clock, Duration> deadline) {
    return wait_for(detail::time_left(deadline));
  }
  /// The caller's end of the expression's stdin_pipe(). A write that waits for
  /// room keeps reading the output into this handle meanwhile.
  input_stream& input();
  /// As handle::resize().
  void resize(pty_size size);
  void kill();
  void send_signal(int signal);
  std::vector<process_id> pids() const;
#if defined(__linux__)
  /// As handle::processes().
  std::vector<proc::process_sample> processes() const;
#endif
  /// The last owner will not kill; the background thread still reaps.
  void detach();
  /// As handle::completion_fd().
  int completion_fd() const;
  /// As handle::completion_handle().
  native_handle_type completion_handle() const;

  explicit reader_handle(std::shared_ptr<detail::stdout_reader> reader) noexcept;

 private:
  friend int detail::reader_output_fd(const reader_handle&) noexcept;
#ifdef _WIN32
  friend native_handle_type detail::reader_output_event(const reader_handle&) noexcept;
#endif
  std::shared_ptr<detail::stdout_reader> reader_;
};

/// A lazy input range of stdout lines. Ends after the last line; a checked failure
/// throws from the increment that reaches the end, once.
class line_range {
 public:
  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = std::string;
    using difference_type = std::ptrdiff_t;
    using pointer = const std::string*;
    using reference = const std::string&;

    iterator() = default;
    reference operator*() const;
    pointer operator->() const { return &**this; }
    iterator& operator++();
    iterator operator++(int) {
      iterator before = *this;
      ++*this;
      return before;
    }
    friend bool operator==(const iterator& a, const iterator& b) noexcept { return a.at_end() == b.at_end(); }
    friend bool operator!=(const iterator& a, const iterator& b) noexcept { return !(a == b); }

   private:
    friend class line_range;
    explicit iterator(detail::stdout_reader* reader) noexcept : reader_(reader) {}
    bool at_end() const noexcept;
    detail::stdout_reader* reader_ = nullptr;
  };

  line_range() = default;
  explicit line_range(std::shared_ptr<detail::stdout_reader> reader) noexcept : reader_(std::move(reader)) {}
  /// Reads the first line if none was read yet.
  iterator begin();
  iterator end() noexcept { return iterator(); }

 private:
  std::shared_ptr<detail::stdout_reader> reader_;
};

}  // namespace ductile

// A line_range is a view: copies share one stream, so range-v3 may take it by
// value (`expr.lines() | ranges::views::filter(...)`). range-v3 asks for this
// through a trait it documents for specialisation; declaring the trait here
// keeps its headers out of this one.
namespace ranges::ext {
template <typename T>
struct enable_view;
template <>
struct enable_view<ductile::line_range> : std::true_type {};
}  // namespace ranges::ext
