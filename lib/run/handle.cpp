// The handle of a started run: waiting, killing, signalling.

#include <ductile/handle.hpp>

#include "os/stop.hpp"
#include "run/execution.hpp"
#include "run/input_channel.hpp"

namespace ductile {

DUCTILE_INLINE handle::handle(std::shared_ptr<detail::execution> execution) noexcept
    : execution_(std::move(execution)) {}

DUCTILE_INLINE handle& handle::operator=(handle&& other) noexcept {
  if (this != &other) {
    if (execution_ && !detached_) execution_->kill();
    execution_ = std::move(other.execution_);
    input_ = std::move(other.input_);
    detached_ = other.detached_;
  }
  return *this;
}

DUCTILE_INLINE handle::~handle() {
  if (!execution_) return;
  if (!detached_)
    execution_->kill();
  else
    execution_->close_input();  // nobody is left to write to it
}

DUCTILE_INLINE const output& handle::wait() {
  execution_->close_input();
  execution_->await_finish(std::nullopt);
  return execution_->result();
}

DUCTILE_INLINE const output* handle::try_wait() {
  if (!execution_->check_now()) return nullptr;
  return &execution_->result();
}

DUCTILE_INLINE const output* handle::wait_for(std::chrono::nanoseconds timeout) {
  execution_->close_input();
  if (!execution_->await_finish(std::chrono::steady_clock::now() + timeout)) return nullptr;
  return &execution_->result();
}

DUCTILE_INLINE input_stream& handle::input() {
  if (!input_.is_attached()) input_ = input_stream(execution_->input());
  return input_;
}

DUCTILE_INLINE void handle::resize(pty_size size) { execution_->resize(size); }

DUCTILE_INLINE void handle::kill() { execution_->kill(); }
DUCTILE_INLINE void handle::send_signal(int signal) {
  detail::refuse_unsendable_signal(signal);
  execution_->send_signal(signal);
}
DUCTILE_INLINE std::vector<process_id> handle::pids() const { return execution_->pids(); }

#if defined(__linux__)
DUCTILE_INLINE std::vector<proc::process_sample> handle::processes() const { return execution_->processes(); }
#endif
DUCTILE_INLINE void handle::detach() { detached_ = true; }
DUCTILE_INLINE int handle::completion_fd() const { return execution_->completion_fd(); }
DUCTILE_INLINE native_handle_type handle::completion_handle() const { return execution_->completion_handle(); }

}  // namespace ductile
