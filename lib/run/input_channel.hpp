#pragma once
// The write end of a stdin_pipe(): the caller writes into it on its own thread
// while the run's outputs keep draining elsewhere (the background thread, or,
// for a reader_handle, the wait inside write() itself).

#include <mutex>
#include <string_view>

#include "os/descriptor.hpp"

namespace ductile::detail {

// What a reader_handle drains while a write waits for room: the caller's own
// thread is the one that reads its output.
class drain_while_writing {
 public:
  virtual ~drain_while_writing() = default;
  // The descriptor to watch, or -1.
  virtual int drain_fd() noexcept = 0;
  // It is readable: read what is there.
  virtual void drain() = 0;
};

class input_channel {
 public:
  // A new pipe's write end; a previous one is closed. After close(), the new
  // one is closed at once: the caller said it has nothing more to write.
  void attach(unique_fd write_end);
  // Blocks until every byte is written; false once the child has closed its
  // end (never SIGPIPE) or after close().
  bool write(std::string_view bytes);
  void close() noexcept;
  void set_drain(drain_while_writing* drain) noexcept;

 private:
  std::mutex mutex_;
  unique_fd write_end_;
  drain_while_writing* drain_ = nullptr;
  bool closed_ = false;
};

}  // namespace ductile::detail
