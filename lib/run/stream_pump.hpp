#pragma once
// The bytes of one run that pass through the parent: captures of stdout and
// stderr, tees that capture and forward, and stdin fed from memory. Lowering
// asks it for pipes (it is the plan's stream_sink); the event loop moves the
// bytes. Line callbacks and terminals belong here.

#include <poll.h>

#include <cstddef>
#include <ductile/expression.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

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

  // --- the event loop: what to wait for, and what happened
  void collect(std::vector<pollfd>& fds);
  void dispatch(const pollfd* fds, std::size_t count);
  // The most descriptors collect() can add.
  std::size_t most_descriptors() const noexcept {
    return captures_.size() * 2 + feeders_.size() + line_sources_.size();
  }

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
  struct capture_source {
    unique_fd read;
    int stream;                           // 1 or 2
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
    unique_fd write;
    std::shared_ptr<const std::string> bytes;
    std::size_t offset = 0;
  };
  struct line_source {
    unique_fd read;
    line_function on_line;
    std::string buffer;       // read, not yet passed on; polled only while it holds no whole line
    bool ended = false;       // end of file: a last line without newline is passed too
    bool whole_line = false;  // `buffer` holds a newline
  };
  enum class target_kind { capture, forward, feeder, lines };
  struct poll_target {
    target_kind kind;
    std::size_t index;
  };

  enum class pipe_end { read, write };
  pipe_ends make_pipe(const char* what, pipe_end kept);
  void read_capture(capture_source& source);
  void read_forwarded(capture_source& source);
  void end_source(capture_source& source);
  void release_terminals() noexcept;
  void forward_tee(capture_source& source);
  void release_drained_forward(capture_source& source);
  void write_feeder(feeder& f);
  void read_lines(line_source& source);
  void type_end_of_input(capture_source& source, steady_time now);

  const expression& command_;
  std::vector<capture_source> captures_;
  std::vector<feeder> feeders_;
  std::vector<line_source> line_sources_;
  std::shared_ptr<input_channel> input_;
  std::weak_ptr<const unique_fd> caller_read_;  // the stdin_pipe() read end while a child may still get it
  std::vector<int> terminals_;                  // masters, for resize; owned by their sources or held_masters_
  std::vector<unique_fd> held_masters_;         // masters at their end of file, closed when the run ends
  bool input_closed_ = false;
  bool combined_ = false;
  std::string combined_bytes_;
  std::vector<poll_target> targets_;
  std::weak_ptr<const unique_fd> capture_write_[3];
  capture_buffer captured_[3];
  bool stop_at_exit_ = false;
};

}  // namespace ductile::detail
