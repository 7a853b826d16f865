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
  if (const auto error = sys::make_parent_pipe(ends, kept == pipe_end::read)) {
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
  captures_.emplace_back(std::move(ends.read), index, std::nullopt);
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
  captures_.emplace_back(std::move(ends.read), static_cast<int>(stream), std::move(forward)).forward_to_file = to_file;
  auto write_end = std::make_shared<const unique_fd>(std::move(ends.write));
  return stdio_target{write_end->get(), write_end};
}

DUCTILE_INLINE stdio_target stream_pump::feed(std::shared_ptr<const std::string> bytes) {
  pipe_ends ends = make_pipe("make a stdin pipe", pipe_end::write);
  sys::set_nonblocking(ends.write.get());
  if (bytes->size() > large_pipe / 16) sys::resize_pipe(ends.write.get(), large_pipe);
  feeders_.emplace_back(std::move(ends.write), std::move(bytes));
  auto read_end = std::make_shared<const unique_fd>(std::move(ends.read));
  return stdio_target{read_end->get(), read_end};
}

DUCTILE_INLINE stdio_target stream_pump::lines(stdio stream, line_function fn) {
  (void)stream;  // both streams are served alike; the callback knows which it is
  pipe_ends ends = make_pipe("make a line pipe", pipe_end::read);
  sys::set_nonblocking(ends.read.get());
  line_sources_.emplace_back(std::move(ends.read), std::move(fn));
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
    capture_source& typed = captures_.emplace_back(std::move(from), 0, stdio_target{typing_end->get(), typing_end});
    typed.keep = false;
    typed.is_input = true;
  }
  terminals_.push_back(master.get());
  const bool into_capture = [&] {
    const auto existing = capture_write_[1].lock();
    return existing != nullptr && existing == output.owner;
  }();
  if (into_capture) {
    capture_source& shown = captures_.emplace_back(std::move(master), 1, std::nullopt);
    shown.is_terminal = true;
  } else {
    capture_source& shown = captures_.emplace_back(std::move(master), 1, output);
    shown.keep = false;
    shown.is_terminal = true;
    shown.forward_to_file = sys::is_regular_file(output.fd);
  }
  slot = std::make_shared<terminal_slot>();
  slot->slave = std::make_shared<const unique_fd>(std::move(slave));
  return stdio_target{slot->slave->get(), slot->slave};
}

DUCTILE_INLINE void stream_pump::resize_terminals(pty_size size) noexcept {
  for (const int master : terminals_) sys::set_window_size(master, sys::window_size{size.rows, size.cols});
}

// Line sources and forward-only sources read 64 KiB at a time into the end
// of a string.
inline constexpr std::size_t line_chunk = 64 * 1024;
inline constexpr std::size_t forward_chunk = 64 * 1024;

DUCTILE_INLINE void stream_pump::take_line_read(line_source& source, const os::io_result& read) {
  const std::size_t old_size = source.tail.old_size;
  if (source.buffer.find('\n', old_size) != std::string::npos) source.whole_line = true;
  if (read.end) {
    source.reading.abandon();
    source.read.reset();
    source.ended = true;
  }
}

// What is readable now, without waiting.
DUCTILE_INLINE void stream_pump::drain_lines(line_source& source) {
  source.reading.abandon();
  source.tail.text = &source.buffer;
  source.tail.size = line_chunk;
  const auto space = source.tail.room();
  bool would_block = false;
  const os::io_result read = os::read_now(source.read.get(), space.data, space.size, would_block);
  source.tail.filled(would_block ? 0 : read.bytes);
  if (!would_block) take_line_read(source, read);
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

// A completed read into a kept capture. While reads fill their buffer, more
// are made at once, a bounded number per wake-up so that one busy stream
// does not starve the others.
DUCTILE_INLINE void stream_pump::take_capture_read(capture_source& source, const os::io_result& first) {
  capture_buffer& buffer = captured_[source.stream];
  os::io_result read = first;
  const char* data = source.into_capture.given.data;
  std::size_t asked = source.into_capture.given.size;
  for (int round = 0;; ++round) {
    if (read.end) {
      end_source(source);
      return;
    }
    buffer.commit(read.bytes);
    if (combined_) combined_bytes_.append(data, read.bytes);
    if (source.forward) source.pending.append(data, read.bytes);
    if (read.bytes < asked || round == 15) return;
    if (!source.pipe_grown) {
      source.pipe_grown = true;
      sys::resize_pipe(source.read.get(), large_pipe);
    }
    const auto space = buffer.room();
    data = space.data;
    asked = space.size;
    bool would_block = false;
    read = os::read_now(source.read.get(), space.data, space.size, would_block);
    if (would_block) return;
  }
}

// Keeps what is readable now, without waiting.
DUCTILE_INLINE void stream_pump::drain_capture(capture_source& source) {
  source.reading.abandon();
  if (!source.keep) {
    source.into_pending.text = &source.pending;
    source.into_pending.size = forward_chunk;
    const auto space = source.into_pending.room();
    bool would_block = false;
    const os::io_result read = os::read_now(source.read.get(), space.data, space.size, would_block);
    source.into_pending.filled(would_block ? 0 : read.bytes);
    if (!would_block) take_forwarded_read(source, read);
    return;
  }
  source.into_capture.buffer = &captured_[source.stream];
  const auto space = source.into_capture.room();
  bool would_block = false;
  const os::io_result read = os::read_now(source.read.get(), space.data, space.size, would_block);
  if (!would_block) take_capture_read(source, read);
}

// A master stays open until the run has finished: closing it hangs the
// terminal up, and SIGHUP would reach a session leader that has closed its
// descriptors (as GNU tools do at exit) but not yet exited.
DUCTILE_INLINE void stream_pump::end_source(capture_source& source) {
  source.reading.abandon();
  if (source.is_terminal)
    held_masters_.push_back(std::move(source.read));
  else
    source.read.reset();
}

DUCTILE_INLINE void stream_pump::release_terminals() noexcept {
  terminals_.clear();
  held_masters_.clear();
}

// Bytes that only pass through, read into the pending forward.
DUCTILE_INLINE void stream_pump::take_forwarded_read(capture_source& source, const os::io_result& read) {
  if (!read.end) return;
  end_source(source);  // end of file, or EIO from a master whose slaves are all closed
  // Typed input has ended: the terminal's end-of-file character tells the program.
  if (source.is_input) {
    source.ending = true;
    source.next_look = std::chrono::steady_clock::now();
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

// A pipe promises room for only this much when poll says it is writable; a
// file takes everything.
DUCTILE_INLINE void stream_pump::start_forward(capture_source& source) {
  const std::size_t left = source.pending.size() - source.pending_offset;
  const std::size_t size = source.forward_to_file ? left : std::min(left, atomic_pipe_write);
  source.forwarding.start_write(source.forward->fd, source.pending.data() + source.pending_offset, size);
}

DUCTILE_INLINE void stream_pump::take_forward_write(capture_source& source, const os::io_result& written) {
  const std::size_t left = source.pending.size() - source.pending_offset;
  if (written.end || written.bytes == left) {
    // Done, or the reader went away (the capture still keeps everything).
    source.pending.clear();
    source.pending_offset = 0;
    return;
  }
  source.pending_offset += written.bytes;
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

// A completed write of stdin bytes; more are written at once until the pipe
// is full.
DUCTILE_INLINE void stream_pump::take_feeder_write(feeder& f, const os::io_result& first) {
  const std::string& bytes = *f.bytes;
  os::io_result written = first;
  for (;;) {
    if (written.end) break;  // EPIPE: the child stopped reading, which is its right
    f.offset += written.bytes;
    if (f.offset >= bytes.size()) break;
    bool would_block = false;
    written = os::write_now(f.write.get(), bytes.data() + f.offset, bytes.size() - f.offset, would_block);
    if (would_block) return;
  }
  f.write.reset();
}

DUCTILE_INLINE void stream_pump::collect(os::wait_list& list) {
  for (auto& c : captures_) {
    // The forward first: the loop completes a turn's operations in order, and
    // a read into the pending bytes may move them.
    if (c.forward && !c.pending.empty()) {
      start_forward(c);
      list.add(c.forwarding);
    }
    // A forward-only source whose target is behind waits for it.
    const bool backed_up = !c.keep && c.pending.size() - c.pending_offset >= forward_backlog;
    if (c.read && !backed_up) {
      if (c.keep) {
        c.into_capture.buffer = &captured_[c.stream];
        c.reading.start_read(c.read.get(), c.into_capture);
      } else {
        c.into_pending.text = &c.pending;
        c.into_pending.size = forward_chunk;
        c.reading.start_read(c.read.get(), c.into_pending);
      }
      list.add(c.reading);
    }
  }
  for (auto& f : feeders_) {
    if (!f.write) continue;
    f.writing.start_write(f.write.get(), f.bytes->data() + f.offset, f.bytes->size() - f.offset);
    list.add(f.writing);
  }
  // A source whose whole lines still wait for their callback is not read
  // further: memory stays at about one read, whatever flows through it.
  for (auto& source : line_sources_) {
    if (!source.read || source.whole_line) continue;
    source.tail.text = &source.buffer;
    source.tail.size = line_chunk;
    source.reading.start_read(source.read.get(), source.tail);
    list.add(source.reading);
  }
}

DUCTILE_INLINE void stream_pump::dispatch() {
  for (auto& c : captures_) {
    if (c.forwarding.completed()) take_forward_write(c, c.forwarding.take());
    if (c.reading.completed()) {
      const os::io_result read = c.reading.take();
      if (c.keep)
        take_capture_read(c, read);
      else
        take_forwarded_read(c, read);
    }
    release_drained_forward(c);
  }
  for (auto& f : feeders_)
    if (f.writing.completed()) take_feeder_write(f, f.writing.take());
  for (auto& source : line_sources_)
    if (source.reading.completed()) take_line_read(source, source.reading.take());
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
      drain_capture(c);
      c.reading.abandon();
      c.read.reset();
    }
    if (c.read || (c.forward && !c.pending.empty())) flowing = true;
    if (!c.read && c.pending.empty()) c.forward.reset();
  }
  for (auto& source : line_sources_) {
    if (source.read && stop_at_exit_) {
      // Pass on what is already there and stop.
      drain_lines(source);
      source.reading.abandon();
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
      if (c.read) drain_capture(c);  // keep what is already there
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
