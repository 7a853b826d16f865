#include "run/stream_pump.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <ductile/error.hpp>
#include <ductile/format.hpp>

#include "model/failure.hpp"
#include "os/system_calls.hpp"
#include "os/terminal.hpp"

namespace ductile::detail {

// Pipes start at the kernel's 64 KiB. One that has filled up carries volume and
// is enlarged: fewer wake-ups per byte. Enlarging every pipe up front would
// spend the user's pipe-buffer quota (fs.pipe-user-pages-soft) on pipes that
// carry a few bytes, and past that quota every new pipe of the user shrinks.
inline constexpr std::size_t large_pipe = 1024 * 1024;
// A forward-only source (a terminal's output or input) stops reading while
// this much waits for a slow target.
inline constexpr std::size_t forward_backlog = 256 * 1024;
// POLLOUT on a pipe promises room for at least this much without blocking.
inline constexpr std::size_t atomic_pipe_write = 4096;

// The end the parent keeps lives as long as the run: it is moved clear of the
// low numbers where the next child's descriptors are made (see
// sys::keep_clear_of_new_descriptors).
DUCTILE_INLINE pipe_ends stream_pump::make_pipe(const char* what, pipe_end kept) {
  pipe_ends ends;
  if (const auto error = sys::make_pipe(ends)) {
    const std::string command = to_string(command_);
    throw_spawn_error(command, "pipe", what, error);
  }
  unique_fd& parent_end = kept == pipe_end::read ? ends.read : ends.write;
  parent_end.reset(sys::keep_clear_of_new_descriptors(parent_end.release()));
  return ends;
}

DUCTILE_INLINE stdio_target stream_pump::capture(stdio stream) {
  const int index = static_cast<int>(stream);
  if (auto existing = capture_write_[index].lock()) return stdio_target{existing->get(), existing};
  pipe_ends ends = make_pipe("make a capture pipe", pipe_end::read);
  sys::set_nonblocking(ends.read.get());
  captures_.push_back(capture_source{std::move(ends.read), index, std::nullopt, {}});
  auto write_end = std::make_shared<const unique_fd>(std::move(ends.write));
  capture_write_[index] = write_end;
  return stdio_target{write_end->get(), write_end};
}

DUCTILE_INLINE stdio_target stream_pump::tee(stdio stream, stdio_target forward) {
  // Forwarding into this very capture would capture every byte twice: where
  // the stream would have gone is already the capture, so capturing is all.
  if (const auto existing = capture_write_[static_cast<int>(stream)].lock())
    if (existing == forward.owner) return forward;
  pipe_ends ends = make_pipe("make a tee pipe", pipe_end::read);
  sys::set_nonblocking(ends.read.get());
  const bool to_file = sys::is_regular_file(forward.fd);
  captures_.push_back(capture_source{std::move(ends.read), static_cast<int>(stream), std::move(forward), {}});
  captures_.back().forward_to_file = to_file;
  auto write_end = std::make_shared<const unique_fd>(std::move(ends.write));
  return stdio_target{write_end->get(), write_end};
}

DUCTILE_INLINE stdio_target stream_pump::feed(std::shared_ptr<const std::string> bytes) {
  pipe_ends ends = make_pipe("make a stdin pipe", pipe_end::write);
  sys::set_nonblocking(ends.write.get());
  if (bytes->size() > large_pipe / 16) sys::resize_pipe(ends.write.get(), large_pipe);
  feeders_.push_back(feeder{std::move(ends.write), std::move(bytes), 0});
  auto read_end = std::make_shared<const unique_fd>(std::move(ends.read));
  return stdio_target{read_end->get(), read_end};
}

DUCTILE_INLINE stdio_target stream_pump::lines(stdio stream, line_function fn) {
  (void)stream;  // both streams are served alike; the callback knows which it is
  pipe_ends ends = make_pipe("make a line pipe", pipe_end::read);
  sys::set_nonblocking(ends.read.get());
  line_sources_.push_back(line_source{std::move(ends.read), std::move(fn), {}, false});
  auto write_end = std::make_shared<const unique_fd>(std::move(ends.write));
  return stdio_target{write_end->get(), write_end};
}

DUCTILE_INLINE const std::shared_ptr<input_channel>& stream_pump::input() {
  if (!input_) {
    input_ = std::make_shared<input_channel>();
    if (input_closed_) input_->close();
  }
  return input_;
}

// One pipe per run: a `then` whose sides both read the caller's pipe shares
// it. A new one is made only once no child can still get the old read end.
DUCTILE_INLINE stdio_target stream_pump::caller_pipe() {
  if (auto existing = caller_read_.lock()) return stdio_target{existing->get(), existing};
  pipe_ends ends = make_pipe("make a stdin pipe", pipe_end::write);
  sys::set_nonblocking(ends.write.get());
  input()->attach(std::move(ends.write));
  auto read_end = std::make_shared<const unique_fd>(std::move(ends.read));
  caller_read_ = read_end;
  return stdio_target{read_end->get(), read_end};
}

// The master is read like a capture (or forwarded to where stdout would have
// gone) and written like a tee's target. A Linux master answers EIO once the
// last slave is closed, after everything written was read: end of file.
DUCTILE_INLINE stdio_target stream_pump::terminal(const std::optional<pty_size>& size, stdio_target input,
                                                  stdio_target output, std::shared_ptr<terminal_slot>& slot) {
  const sys::window_size window = size ? sys::window_size{size->rows, size->cols} : sys::parent_window_size();
  unique_fd master, slave;
  if (const auto error = sys::open_terminal(window, master, slave)) {
    const std::string command = to_string(command_);
    throw_spawn_error(command, "pty", "open a pseudo-terminal", error);
  }
  // Typing into it: a duplicate of the master, so the output side keeps its own.
  if (input.owner != nullptr) {
    unique_fd typing, from;
    if (const auto error = sys::duplicate(master.get(), typing)) {
      const std::string command = to_string(command_);
      throw_spawn_error(command, "pty", "duplicate a pseudo-terminal", error);
    }
    if (const auto error = sys::duplicate(input.fd, from)) {
      const std::string command = to_string(command_);
      throw_spawn_error(command, "pty", "duplicate the terminal's input", error);
    }
    sys::set_nonblocking(from.get());
    auto typing_end = std::make_shared<const unique_fd>(std::move(typing));
    capture_source typed{std::move(from), 0, stdio_target{typing_end->get(), typing_end}, {}};
    typed.keep = false;
    typed.is_input = true;
    captures_.push_back(std::move(typed));
  }
  terminals_.push_back(master.get());
  const bool into_capture = [&] {
    const auto existing = capture_write_[1].lock();
    return existing != nullptr && existing == output.owner;
  }();
  if (into_capture) {
    capture_source shown{std::move(master), 1, std::nullopt, {}};
    shown.is_terminal = true;
    captures_.push_back(std::move(shown));
  } else {
    capture_source shown{std::move(master), 1, output, {}};
    shown.keep = false;
    shown.is_terminal = true;
    shown.forward_to_file = sys::is_regular_file(output.fd);
    captures_.push_back(std::move(shown));
  }
  slot = std::make_shared<terminal_slot>();
  slot->slave = std::make_shared<const unique_fd>(std::move(slave));
  return stdio_target{slot->slave->get(), slot->slave};
}

DUCTILE_INLINE void stream_pump::resize_terminals(pty_size size) noexcept {
  for (const int master : terminals_) sys::set_window_size(master, sys::window_size{size.rows, size.cols});
}

DUCTILE_INLINE void stream_pump::read_lines(line_source& source) {
  constexpr std::size_t chunk = 64 * 1024;
  const std::size_t old_size = source.buffer.size();
  source.buffer.resize(old_size + chunk);
  std::size_t got = 0;
  const auto error = sys::read_some(source.read.get(), source.buffer.data() + old_size, chunk, got);
  source.buffer.resize(old_size + got);
  if (source.buffer.find('\n', old_size) != std::string::npos) source.whole_line = true;
  if (error == std::errc::resource_unavailable_try_again) return;
  if (error || got == 0) {
    source.read.reset();
    source.ended = true;
  }
}

DUCTILE_INLINE bool stream_pump::has_lines() const noexcept {
  for (const auto& source : line_sources_) {
    if (source.buffer.empty()) continue;
    if (source.ended || source.whole_line) return true;
  }
  return false;
}

DUCTILE_INLINE void stream_pump::take_lines(std::vector<line_batch>& out) {
  for (auto& source : line_sources_) {
    if (source.buffer.empty()) continue;
    if (source.ended) {
      out.push_back(line_batch{source.on_line, std::move(source.buffer)});
      source.buffer.clear();
      source.whole_line = false;
      continue;
    }
    if (!source.whole_line) continue;
    source.whole_line = false;
    // The whole buffer moves to the batch; only the partial line after the
    // last newline (usually short) is copied back.
    const std::size_t last = source.buffer.rfind('\n');
    std::string rest = source.buffer.substr(last + 1);
    source.buffer.resize(last + 1);
    out.push_back(line_batch{source.on_line, std::move(source.buffer)});
    source.buffer = std::move(rest);
  }
}

DUCTILE_INLINE void stream_pump::read_capture(capture_source& source) {
  if (!source.keep) {
    read_forwarded(source);
    return;
  }
  capture_buffer& buffer = captured_[source.stream];
  // A bounded number of reads per wake-up keeps one busy stream from starving the others.
  for (int round = 0; round < 16; ++round) {
    const auto space = buffer.room();
    std::size_t got = 0;
    const auto error = sys::read_some(source.read.get(), space.data, space.size, got);
    if (error == std::errc::resource_unavailable_try_again) return;
    if (error || got == 0) {
      end_source(source);
      return;
    }
    buffer.commit(got);
    if (combined_) combined_bytes_.append(space.data, got);
    if (source.forward) source.pending.append(space.data, got);
    if (got < space.size) return;
    if (!source.pipe_grown) {
      source.pipe_grown = true;
      sys::resize_pipe(source.read.get(), large_pipe);
    }
  }
}

// A master stays open until the run has finished: closing it hangs the
// terminal up, and SIGHUP would reach a session leader that has closed its
// descriptors (as GNU tools do at exit) but not yet exited.
DUCTILE_INLINE void stream_pump::end_source(capture_source& source) {
  if (source.is_terminal)
    held_masters_.push_back(std::move(source.read));
  else
    source.read.reset();
}

DUCTILE_INLINE void stream_pump::release_terminals() noexcept {
  terminals_.clear();
  held_masters_.clear();
}

// Bytes that only pass through: into the pending forward, a bounded amount per wake-up.
DUCTILE_INLINE void stream_pump::read_forwarded(capture_source& source) {
  constexpr std::size_t chunk = 64 * 1024;
  if (source.pending.size() - source.pending_offset >= forward_backlog) return;  // the target is slow: wait for it
  const std::size_t old_size = source.pending.size();
  source.pending.resize(old_size + chunk);
  std::size_t got = 0;
  const auto error = sys::read_some(source.read.get(), source.pending.data() + old_size, chunk, got);
  source.pending.resize(old_size + got);
  if (error == std::errc::resource_unavailable_try_again) return;
  if (error || got == 0) {
    end_source(source);  // end of file, or EIO from a master whose slaves are all closed
    // Typed input has ended: the terminal's end-of-file character tells the program.
    if (source.is_input) {
      source.ending = true;
      source.next_look = std::chrono::steady_clock::now();
    }
  }
}

// A program reading its terminal byte by byte (readline at its prompt) takes
// the end-of-file character as a key; one reading line by line gets end of
// file from it. Typed while the program switches between the two (between
// reading a line and being back at its prompt), the character is lost: the
// line discipline keeps a canonical end of file as a NUL byte, which a raw
// reader takes for a key. So it is typed at the end of the input, again
// whenever the mode has changed since (looked at 10 ms after each typing,
// then less and less often, at most every 100 ms), and, because a switch and
// its way back can both fall between two looks, up to three times more in an
// unchanged mode, 250 ms apart. Input that has ended gives every read an end
// of file, as a closed pipe does; a full-screen program in raw mode sees at
// most those three keys.
DUCTILE_INLINE void stream_pump::type_end_of_input(capture_source& source, steady_time now) {
  constexpr std::chrono::milliseconds first_look{10}, slowest_look{100}, again_after{250};
  constexpr int most_again = 3;
  sys::input_mode mode;
  if (!source.forward || sys::terminal_input_mode(source.forward->fd, mode)) {
    source.ending = false;  // the terminal is gone
    return;
  }
  const bool changed = !source.typed_in || *source.typed_in != mode;
  if (changed || (source.typed_again < most_again && now - source.typed_at >= again_after)) {
    source.pending += mode.end_of_file;
    source.typed_again = changed ? 0 : source.typed_again + 1;
    source.typed_in = mode;
    source.typed_at = now;
    source.look_delay = first_look;
  } else {
    source.look_delay = std::min(slowest_look, source.look_delay * 2);
  }
  source.next_look = now + source.look_delay;
}

DUCTILE_INLINE std::optional<steady_time> stream_pump::next_deadline() const noexcept {
  std::optional<steady_time> next;
  for (const auto& c : captures_)
    if (c.ending && (!next || c.next_look < *next)) next = c.next_look;
  return next;
}

DUCTILE_INLINE void stream_pump::run_timers(steady_time now) {
  for (auto& c : captures_)
    if (c.ending && c.next_look <= now && c.pending.empty()) type_end_of_input(c, now);
}

DUCTILE_INLINE void stream_pump::forward_tee(capture_source& source) {
  std::size_t done = 0;
  const std::size_t left = source.pending.size() - source.pending_offset;
  // A pipe promises room for only this much when poll says it is writable; a
  // file takes everything.
  const std::size_t size = source.forward_to_file ? left : std::min(left, atomic_pipe_write);
  const auto error = sys::write_some(source.forward->fd, source.pending.data() + source.pending_offset, size, done);
  if (error == std::errc::resource_unavailable_try_again) return;
  if (error || done == left) {
    // Done, or the reader went away (the capture still keeps everything).
    source.pending.clear();
    source.pending_offset = 0;
    return;
  }
  source.pending_offset += done;
  // Dropping the forwarded front only now and then keeps forwarding linear.
  if (source.pending_offset >= source.pending.size() / 2) {
    source.pending.erase(0, source.pending_offset);
    source.pending_offset = 0;
  }
}

// The forward target may be the write end of a pipe to a later stage: it must
// close as soon as everything is forwarded, or that stage never sees EOF.
DUCTILE_INLINE void stream_pump::release_drained_forward(capture_source& source) {
  if (source.forward && !source.read && source.pending.empty() && !source.ending) source.forward.reset();
}

DUCTILE_INLINE void stream_pump::write_feeder(feeder& f) {
  const std::string& bytes = *f.bytes;
  while (f.offset < bytes.size()) {
    std::size_t done = 0;
    const auto error = sys::write_some(f.write.get(), bytes.data() + f.offset, bytes.size() - f.offset, done);
    if (error == std::errc::resource_unavailable_try_again) return;
    if (error) break;  // EPIPE: the child stopped reading, which is its right
    f.offset += done;
  }
  f.write.reset();
}

DUCTILE_INLINE void stream_pump::collect(std::vector<pollfd>& fds) {
  targets_.clear();
  targets_.reserve(most_descriptors());
  for (std::size_t i = 0; i < captures_.size(); ++i) {
    auto& c = captures_[i];
    // A forward-only source whose target is behind waits for it.
    const bool backed_up = !c.keep && c.pending.size() - c.pending_offset >= forward_backlog;
    if (c.read && !backed_up) {
      fds.push_back(pollfd{c.read.get(), POLLIN, 0});
      targets_.push_back({target_kind::capture, i});
    }
    if (c.forward && !c.pending.empty()) {
      fds.push_back(pollfd{c.forward->fd, POLLOUT, 0});
      targets_.push_back({target_kind::forward, i});
    }
  }
  for (std::size_t i = 0; i < feeders_.size(); ++i) {
    if (!feeders_[i].write) continue;
    fds.push_back(pollfd{feeders_[i].write.get(), POLLOUT, 0});
    targets_.push_back({target_kind::feeder, i});
  }
  // A source whose whole lines still wait for their callback is not read
  // further: memory stays at about one read, whatever flows through it.
  for (std::size_t i = 0; i < line_sources_.size(); ++i) {
    const auto& source = line_sources_[i];
    if (!source.read || source.whole_line) continue;
    fds.push_back(pollfd{source.read.get(), POLLIN, 0});
    targets_.push_back({target_kind::lines, i});
  }
}

DUCTILE_INLINE void stream_pump::dispatch(const pollfd* fds, std::size_t count) {
  const std::size_t n = std::min(count, targets_.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (fds[i].revents == 0) continue;
    const auto target = targets_[i];
    switch (target.kind) {
      case target_kind::capture:
        if (captures_[target.index].read) read_capture(captures_[target.index]);
        release_drained_forward(captures_[target.index]);
        break;
      case target_kind::forward:
        forward_tee(captures_[target.index]);
        release_drained_forward(captures_[target.index]);
        break;
      case target_kind::feeder:
        if (feeders_[target.index].write) write_feeder(feeders_[target.index]);
        break;
      case target_kind::lines:
        if (line_sources_[target.index].read) read_lines(line_sources_[target.index]);
        break;
    }
  }
  targets_.clear();
}

DUCTILE_INLINE bool stream_pump::still_flowing() {
  for (auto& f : feeders_) f.write.reset();  // nobody is left to read them
  bool flowing = false;
  for (auto& c : captures_) {
    if (c.is_input) {
      // What was typed for processes that are gone.
      c.ending = false;
      c.read.reset();
      c.forward.reset();
      c.pending.clear();
      c.pending_offset = 0;
      continue;
    }
    if (c.read && stop_at_exit_) {
      // Keep what is already there and stop.
      read_capture(c);
      c.read.reset();
    }
    if (c.read || (c.forward && !c.pending.empty())) flowing = true;
    if (!c.read && c.pending.empty()) c.forward.reset();
  }
  for (auto& source : line_sources_) {
    if (source.read && stop_at_exit_) {
      // Pass on what is already there and stop.
      read_lines(source);
      source.read.reset();
      source.ended = true;
    }
    if (source.read || !source.buffer.empty()) flowing = true;
  }
  if (!flowing) release_terminals();  // every process of the run has been reaped
  return flowing;
}

DUCTILE_INLINE void stream_pump::close_all() noexcept {
  try {
    for (auto& c : captures_) {
      if (c.read) read_capture(c);  // keep what is already there
    }
  } catch (...) {
    // Out of memory again: what was captured so far is all there is.
  }
  for (auto& c : captures_) {
    c.read.reset();
    c.forward.reset();
  }
  for (auto& f : feeders_) f.write.reset();
  for (auto& source : line_sources_) {
    source.read.reset();
    source.buffer.clear();
  }
  release_terminals();
}

}  // namespace ductile::detail
