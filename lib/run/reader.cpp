// Reading a started run's output on the caller's thread: reader_handle and lines().

#include "run/reader.hpp"

#include <cstring>
#include <ductile/handle.hpp>

#include "os/event_loop.hpp"
#include "os/stop.hpp"
#include "os/system_calls.hpp"

namespace ductile {

namespace detail {

DUCTILE_INLINE stdout_reader::stdout_reader(std::shared_ptr<execution> run, unique_fd pipe) noexcept
    : run_(std::move(run)), pipe_(std::move(pipe)) {}

DUCTILE_INLINE stdout_reader::~stdout_reader() {
  if (channel_) channel_->set_drain(nullptr);
  // Detached: the background thread still reaps, and the pipe closing lets
  // a writer see EPIPE instead of blocking.
  if (!detached_) run_->kill();
  pipe_.reset();
}

DUCTILE_INLINE void stdout_reader::reach_end() {
  end_of_pipe_ = true;
  pipe_.reset();
  if (end_reported_) return;
  end_reported_ = true;
  run_->await_finish(std::nullopt);
  run_->result();  // throws a checked failure, this once
}

DUCTILE_INLINE const output& stdout_reader::result() {
  try {
    return run_->result();
  } catch (...) {
    // The failure has now reached the caller: the end of the stream must not throw it again.
    end_reported_ = true;
    throw;
  }
}

DUCTILE_INLINE const output* stdout_reader::try_wait() {
  if (!run_->check_now()) return nullptr;
  return &result();
}

DUCTILE_INLINE void stdout_reader::fill_buffer() {
  if (end_of_pipe_) return;
  // Compact before reading more, so the buffer holds what is unread.
  buffer_.erase(0, consumed_);
  consumed_ = 0;
  const std::size_t old_size = buffer_.size();
  constexpr std::size_t chunk = 64 * 1024;
  buffer_.resize(old_size + chunk);
  std::size_t got = 0;
  const bool failed = static_cast<bool>(sys::read_some(pipe_.get(), buffer_.data() + old_size, chunk, got));
  buffer_.resize(old_size + got);
  if (failed || got == 0) {
    end_of_pipe_ = true;
    pipe_.reset();
  }
}

DUCTILE_INLINE bool stdout_reader::wait_readable(const std::optional<steady_time>& deadline) {
  if (end_of_pipe_) return true;
  os::wait_list list;
  list.add_readable(pipe_.get());
  for (;;) {
    if (os::wait_for(list, time_until(deadline))) return true;  // let the read report it
    if (list.any_ready()) return true;
    if (deadline && std::chrono::steady_clock::now() >= *deadline) return false;
  }
}

DUCTILE_INLINE bool stdout_reader::await_finish(const std::optional<steady_time>& deadline) {
  os::wait_list list;
  for (;;) {
    if (run_->is_finished()) return true;
    list.clear();
    list.add_readable(run_->completion_fd());
    const std::size_t output = end_of_pipe_ ? list.size() : list.add_readable(pipe_.get());
    if (os::wait_for(list, time_until(deadline))) return run_->await_finish(deadline);
    if (output < list.size() && list.ready(output)) fill_buffer();
    if (!list.any_ready() && deadline && std::chrono::steady_clock::now() >= *deadline) return run_->is_finished();
  }
}

DUCTILE_INLINE std::size_t stdout_reader::read(char* buffer, std::size_t n) {
  if (n == 0) return 0;
  if (consumed_ < buffer_.size()) {
    const std::size_t take = std::min(n, buffer_.size() - consumed_);
    std::memcpy(buffer, buffer_.data() + consumed_, take);
    consumed_ += take;
    return take;
  }
  if (end_of_pipe_) {
    if (!end_reported_) reach_end();
    return 0;
  }
  std::size_t got = 0;
  if (sys::read_some(pipe_.get(), buffer, n, got) || got == 0) {
    reach_end();
    return 0;
  }
  return got;
}

DUCTILE_INLINE std::optional<std::size_t> stdout_reader::read_until(char* buffer, std::size_t n, steady_time deadline) {
  if (n != 0 && consumed_ == buffer_.size() && !wait_readable(deadline)) return std::nullopt;
  return read(buffer, n);
}

DUCTILE_INLINE bool stdout_reader::take_line() {
  const std::size_t newline = buffer_.find('\n', consumed_);
  if (newline != std::string::npos) {
    std::size_t end = newline;
    if (end > consumed_ && buffer_[end - 1] == '\r') --end;
    line_.assign(buffer_, consumed_, end - consumed_);
    consumed_ = newline + 1;
    return true;
  }
  if (end_of_pipe_ && consumed_ < buffer_.size()) {
    line_.assign(buffer_, consumed_, std::string::npos);
    consumed_ = buffer_.size();
    return true;
  }
  return false;
}

DUCTILE_INLINE std::optional<bool> stdout_reader::read_line_until(std::string& line, steady_time deadline) {
  for (;;) {
    if (take_line()) {
      line = line_;
      return true;
    }
    if (end_of_pipe_) {
      // The output can end before the run does: the deadline holds for both.
      if (!end_reported_ && !run_->await_finish(deadline)) return std::nullopt;
      if (!end_reported_) reach_end();
      return false;
    }
    if (!wait_readable(deadline)) return std::nullopt;
    fill_buffer();
  }
}

DUCTILE_INLINE bool stdout_reader::next_line() {
  for (;;) {
    if (take_line()) {
      line_handed_out_ = false;
      return has_line_ = true;
    }
    if (end_of_pipe_) {
      has_line_ = false;
      line_.clear();
      if (!end_reported_) reach_end();
      return false;
    }
    fill_buffer();
  }
}

DUCTILE_INLINE void stdout_reader::begin_lines() {
  if (!lines_started_) {
    lines_started_ = true;
    next_line();
  } else if (has_line_ && line_handed_out_) {
    // An input range hands each line out once: a loop left with `break` has
    // consumed the line it stopped at, and the next loop starts after it.
    next_line();
  }
}

DUCTILE_INLINE const std::string& stdout_reader::line() noexcept {
  line_handed_out_ = true;
  return line_;
}

DUCTILE_INLINE input_stream& stdout_reader::input() {
  if (!input_.is_attached()) {
    channel_ = run_->input();
    channel_->set_drain(this);
    input_ = input_stream(channel_);
  }
  return input_;
}

}  // namespace detail

DUCTILE_INLINE reader_handle::reader_handle(std::shared_ptr<detail::stdout_reader> reader) noexcept
    : reader_(std::move(reader)) {}

DUCTILE_INLINE std::size_t reader_handle::read(char* buffer, std::size_t n) { return reader_->read(buffer, n); }

DUCTILE_INLINE std::optional<std::size_t> reader_handle::read_for(char* buffer, std::size_t n,
                                                                  std::chrono::nanoseconds timeout) {
  return reader_->read_until(buffer, n, std::chrono::steady_clock::now() + timeout);
}

DUCTILE_INLINE std::optional<bool> reader_handle::read_line_for(std::string& line, std::chrono::nanoseconds timeout) {
  return reader_->read_line_until(line, std::chrono::steady_clock::now() + timeout);
}

DUCTILE_INLINE line_range reader_handle::lines() { return line_range(reader_); }

DUCTILE_INLINE const output& reader_handle::wait() {
  reader_->run().close_input();
  reader_->await_finish(std::nullopt);
  return reader_->result();
}

DUCTILE_INLINE const output* reader_handle::try_wait() { return reader_->try_wait(); }

DUCTILE_INLINE const output* reader_handle::wait_for(std::chrono::nanoseconds timeout) {
  reader_->run().close_input();
  if (!reader_->await_finish(std::chrono::steady_clock::now() + timeout)) return nullptr;
  return &reader_->result();
}

DUCTILE_INLINE input_stream& reader_handle::input() { return reader_->input(); }
DUCTILE_INLINE void reader_handle::resize(pty_size size) { reader_->run().resize(size); }
DUCTILE_INLINE void reader_handle::kill() { reader_->run().kill(); }
DUCTILE_INLINE void reader_handle::send_signal(int signal) {
  detail::refuse_unsendable_signal(signal);
  reader_->run().send_signal(signal);
}
DUCTILE_INLINE std::vector<process_id> reader_handle::pids() const { return reader_->run().pids(); }
DUCTILE_INLINE void reader_handle::detach() { reader_->detach(); }
DUCTILE_INLINE int reader_handle::completion_fd() const { return reader_->run().completion_fd(); }
DUCTILE_INLINE native_handle_type reader_handle::completion_handle() const {
  return reader_->run().completion_handle();
}

DUCTILE_INLINE int detail::reader_output_fd(const reader_handle& reader) noexcept { return reader.reader_->drain_fd(); }

#ifdef _WIN32
DUCTILE_INLINE native_handle_type detail::reader_output_event(const reader_handle& reader) noexcept {
  const int fd = reader.reader_->drain_fd();
  return fd >= 0 ? sys::readable_event(fd) : nullptr;
}
#endif

#if defined(__linux__)
DUCTILE_INLINE std::vector<proc::process_sample> reader_handle::processes() const { return reader_->run().processes(); }
#endif

DUCTILE_INLINE line_range::iterator line_range::begin() {
  if (!reader_) return iterator();
  reader_->begin_lines();
  return iterator(reader_.get());
}

DUCTILE_INLINE const std::string& line_range::iterator::operator*() const { return reader_->line(); }

DUCTILE_INLINE line_range::iterator& line_range::iterator::operator++() {
  reader_->next_line();
  return *this;
}

DUCTILE_INLINE bool line_range::iterator::at_end() const noexcept { return reader_ == nullptr || !reader_->has_line(); }

}  // namespace ductile
