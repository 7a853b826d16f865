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

#include "plan/plan.hpp"
#include "run/capture_buffer.hpp"

namespace ductile::detail {

class stream_pump final : public stream_sink {
 public:
  // `command` names the run in error messages; it outlives the pump.
  explicit stream_pump(const expression& command) noexcept : command_(command) {}

  stdio_target capture(stdio stream) override;
  stdio_target tee(stdio stream, stdio_target forward) override;
  stdio_target feed(std::shared_ptr<const std::string> bytes) override;

  // --- the event loop: what to wait for, and what happened
  void collect(std::vector<pollfd>& fds);
  void dispatch(const pollfd* fds, std::size_t count);
  // The most descriptors collect() can add.
  std::size_t most_descriptors() const noexcept { return captures_.size() * 2 + feeders_.size(); }

  // Once the processes are gone, do not wait for end of file: a grandchild
  // may hold a pipe open for as long as it likes (a kill, a timeout).
  void stop_at_exit() noexcept { stop_at_exit_ = true; }
  // The processes have all finished: closes the feeders, and whether bytes
  // are still on their way (a capture short of end of file, a tee not yet
  // forwarded).
  bool still_flowing();
  // The run ends abnormally: keeps what is readable now and closes every
  // pipe. Never throws (out of memory, what was captured so far is all).
  void close_all() noexcept;
  // The captured bytes of stdout or stderr, moved out.
  std::string take(stdio stream) { return captured_[static_cast<int>(stream)].take(); }

 private:
  struct capture_source {
    unique_fd read;
    int stream;                           // 1 or 2
    std::optional<stdio_target> forward;  // tee: where the bytes also go
    std::string pending;                  // tee: bytes not yet forwarded start at pending_offset;
    std::size_t pending_offset = 0;       //   empty once everything is forwarded
    bool forward_to_file = false;         // tee: the target is a regular file, writes never wait
    bool pipe_grown = false;              // enlarged once a full read showed volume
  };
  struct feeder {
    unique_fd write;
    std::shared_ptr<const std::string> bytes;
    std::size_t offset = 0;
  };
  enum class target_kind { capture, forward, feeder };
  struct poll_target {
    target_kind kind;
    std::size_t index;
  };

  pipe_ends make_pipe(const char* what);
  void read_capture(capture_source& source);
  void forward_tee(capture_source& source);
  void release_drained_forward(capture_source& source);
  void write_feeder(feeder& f);

  const expression& command_;
  std::vector<capture_source> captures_;
  std::vector<feeder> feeders_;
  std::vector<poll_target> targets_;
  std::weak_ptr<const unique_fd> capture_write_[3];
  capture_buffer captured_[3];
  bool stop_at_exit_ = false;
};

}  // namespace ductile::detail
