#pragma once
// The bytes of one run that pass through the parent: captures of stdout and
// stderr, tees that capture and forward, and stdin fed from memory. Lowering
// asks it for pipes (it is the plan's stream_sink); the event loop moves the
// bytes. Line callbacks and terminals belong here.

#include <cstddef>
#include <deque>
#include <ductile/expression.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "os/event_loop.hpp"
#include "os/terminal.hpp"
#include "plan/plan.hpp"
#include "run/capture_buffer.hpp"
#include "run/input_channel.hpp"
#include "run/line_batch.hpp"

namespace ductile::detail {

class stream_pump final : public stream_sink {
 public:
  // `command` names the run in error messages; it outlives the pump.
  explicit stream_pump(const expression& command) noexcept : command_(command) {}

  stdio_target capture(stdio stream) override;
  stdio_target tee(stdio stream, stdio_target forward) override;
  stdio_target feed(std::shared_ptr<const std::string> bytes) override;
  stdio_target lines(stdio stream, line_function fn) override;
  stdio_target caller_pipe() override;
  void combine() override { combined_ = true; }
  stdio_target terminal(const std::optional<pty_size>& size, stdio_target input, stdio_target output,
                        std::shared_ptr<terminal_slot>& slot) override;
  // Sets the window of every pseudo-terminal of the run.
  void resize_terminals(pty_size size) noexcept;

  // The stdin_pipe() of the run; made on first use, attached to a pipe when lowered.
  const std::shared_ptr<input_channel>& input();
  const std::shared_ptr<input_channel>& existing_input() const noexcept { return input_; }
  // The input is closed before it exists: a pipe made later is closed at once.
  void close_input_when_made() noexcept { input_closed_ = true; }

  // --- line callbacks: lines are taken out under the run's lock and passed
  // to their callbacks with no lock held (deliver_lines()).
  bool has_lines() const noexcept;
  void take_lines(std::vector<line_batch>& out);

  // --- the event loop: the reads and writes to wait for, and what they did
  // (once the loop has completed `list`)
  void collect(os::wait_list& list);
  void dispatch();
  // The most entries collect() can add.
  std::size_t most_waits() const noexcept { return captures_.size() * 2 + feeders_.size() + line_sources_.size(); }

  // Once the processes are gone, do not wait for end of file: a grandchild
  // may hold a pipe open for as long as it likes (a kill, a timeout).
  void stop_at_exit() noexcept { stop_at_exit_ = true; }
  // When a terminal whose typed input has ended is next looked at, if any.
  std::optional<steady_time> next_deadline() const noexcept;
  // Looks at the terminals whose typed input has ended and are due.
  void run_timers(steady_time now);
  // The processes have all finished: closes the feeders, and whether bytes
  // are still on their way (a capture short of end of file, a tee not yet
  // forwarded).
  bool still_flowing();
  // The run ends abnormally: keeps what is readable now and closes every
  // pipe. Never throws (out of memory, what was captured so far is all).
  void close_all() noexcept;
  // The captured bytes of stdout or stderr, moved out.
  std::string take(stdio stream) { return captured_[static_cast<int>(stream)].take(); }
  std::string take_combined() { return std::move(combined_bytes_); }

 private:
  // A read into a growing string: `size` bytes at its end, the string cut
  // back to what the read filled once it completes.
  struct string_tail final : os::read_target {
    std::string* text = nullptr;
    std::size_t size = 0;
    std::size_t old_size = 0;
    space room() override {
      old_size = text->size();
      text->resize(old_size + size);
      return space{text->data() + old_size, size};
    }
    void filled(std::size_t bytes) override { text->resize(old_size + bytes); }
  };
  // A read into a capture: room where the capture's next bytes go.
  struct capture_room final : os::read_target {
    capture_buffer* buffer = nullptr;
    space given{nullptr, 0};  // the last room given
    space room() override {
      const auto made = buffer->room();
      given = space{made.data, made.size};
      return given;
    }
  };
  struct capture_source {
    capture_source(unique_fd&& from, int which, std::optional<stdio_target> to)
        : read(std::move(from)), stream(which), forward(std::move(to)) {}
    unique_fd read;
    os::stream_operation reading;
    os::stream_operation forwarding;
    capture_room into_capture;            // where a kept source reads to
    string_tail into_pending;             // where a forward-only source reads to
    int stream;                           // 1 or 2 (0: typed into a terminal)
    std::optional<stdio_target> forward;  // tee: where the bytes also go
    std::string pending;                  // tee: bytes not yet forwarded start at pending_offset;
    std::size_t pending_offset = 0;       //   empty once everything is forwarded
    bool forward_to_file = false;         // tee: the target is a regular file, writes never wait
    bool pipe_grown = false;              // enlarged once a full read showed volume
    bool keep = true;                     // false: forwarded only (a terminal's output or input)
    bool is_input = false;                // typed into a terminal: nobody needs it once the processes end
    bool is_terminal = false;             // a master: held open after its end, until the run ends
    // Typed input has ended: the end-of-file character is typed again after
    // each change of the slave's input mode (see type_end_of_input()).
    bool ending = false;
    std::optional<sys::input_mode> typed_in{};  // the mode the last end-of-file was typed in
    steady_time typed_at{};
    int typed_again = 0;  // end-of-file characters typed since the mode last changed
    steady_time next_look{};
    std::chrono::milliseconds look_delay{0};
  };
  struct feeder {
    feeder(unique_fd&& to, std::shared_ptr<const std::string> what) : write(std::move(to)), bytes(std::move(what)) {}
    unique_fd write;
    os::stream_operation writing;
    std::shared_ptr<const std::string> bytes;
    std::size_t offset = 0;
  };
  struct line_source {
    line_source(unique_fd&& from, line_function fn) : read(std::move(from)), on_line(std::move(fn)) {}
    unique_fd read;
    os::stream_operation reading;
    string_tail tail;
    line_function on_line;
    std::string buffer;       // read, not yet passed on; polled only while it holds no whole line
    bool ended = false;       // end of file: a last line without newline is passed too
    bool whole_line = false;  // `buffer` holds a newline
  };
  enum class pipe_end { read, write };
  pipe_ends make_pipe(const char* what, pipe_end kept);
  void take_capture_read(capture_source& source, const os::io_result& read);
  void drain_capture(capture_source& source);
  void take_forwarded_read(capture_source& source, const os::io_result& read);
  void close_source(capture_source& source) noexcept;
  void end_source(capture_source& source);
  void release_terminals() noexcept;
  void take_forward_write(capture_source& source, const os::io_result& written);
  void start_forward(capture_source& source);
  void release_drained_forward(capture_source& source);
  void take_feeder_write(feeder& f, const os::io_result& written);
  void take_line_read(line_source& source, const os::io_result& read);
  void drain_lines(line_source& source);
  void type_end_of_input(capture_source& source, steady_time now);

  const expression& command_;
  // Deques: an operation the loop holds points into its source, which must
  // not move when another source is added.
  std::deque<capture_source> captures_;
  std::deque<feeder> feeders_;
  std::deque<line_source> line_sources_;
  std::shared_ptr<input_channel> input_;
  std::weak_ptr<const unique_fd> caller_read_;  // the stdin_pipe() read end while a child may still get it
  std::vector<int> terminals_;                  // masters, for resize; owned by their sources or held_masters_
  std::vector<unique_fd> held_masters_;         // masters at their end of file, closed when the run ends
  bool input_closed_ = false;
  bool combined_ = false;
  std::string combined_bytes_;
  std::weak_ptr<const unique_fd> capture_write_[3];
  capture_buffer captured_[3];
  bool stop_at_exit_ = false;
};

}  // namespace ductile::detail
