// Reading a started run's stdout on the caller's thread: reader_handle and lines().

#include "run/reader.hpp"

#include <cstring>
#include <ductile/handle.hpp>

namespace ductile {

namespace detail {

DUCTILE_INLINE stdout_reader::stdout_reader(std::shared_ptr<execution> run, unique_fd pipe) noexcept
    : run_(std::move(run)), pipe_(std::move(pipe)) {}

DUCTILE_INLINE stdout_reader::~stdout_reader() {
  run_->kill();
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

DUCTILE_INLINE const output* stdout_reader::try_wait() {
  if (!run_->await_finish(std::chrono::steady_clock::now())) return nullptr;
  try {
    return &run_->result();
  } catch (...) {
    // The failure has now reached the caller: the end of the stream must not throw it again.
    end_reported_ = true;
    throw;
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
  if (end_of_pipe_) return 0;
  std::size_t got = 0;
  if (sys::read_some(pipe_.get(), buffer, n, got) || got == 0) {
    reach_end();
    return 0;
  }
  return got;
}

DUCTILE_INLINE bool stdout_reader::next_line() {
  for (;;) {
    const std::size_t newline = buffer_.find('\n', consumed_);
    if (newline != std::string::npos) {
      std::size_t end = newline;
      if (end > consumed_ && buffer_[end - 1] == '\r') --end;
      line_.assign(buffer_, consumed_, end - consumed_);
      consumed_ = newline + 1;
      line_handed_out_ = false;
      return has_line_ = true;
    }
    if (end_of_pipe_) {
      if (consumed_ < buffer_.size()) {
        line_.assign(buffer_, consumed_, std::string::npos);
        consumed_ = buffer_.size();
        line_handed_out_ = false;
        return has_line_ = true;
      }
      has_line_ = false;
      line_.clear();
      if (!end_reported_) reach_end();
      return false;
    }
    // Compact before reading more, so the buffer holds about one line.
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

}  // namespace detail

DUCTILE_INLINE reader_handle::reader_handle(std::shared_ptr<detail::stdout_reader> reader) noexcept
    : reader_(std::move(reader)) {}

DUCTILE_INLINE std::size_t reader_handle::read(char* buffer, std::size_t n) { return reader_->read(buffer, n); }
DUCTILE_INLINE line_range reader_handle::lines() { return line_range(reader_); }

DUCTILE_INLINE const output* reader_handle::try_wait() { return reader_->try_wait(); }

DUCTILE_INLINE void reader_handle::kill() { reader_->run().kill(); }
DUCTILE_INLINE std::vector<pid_t> reader_handle::pids() const { return reader_->run().pids(); }

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
