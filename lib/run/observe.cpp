#include "run/observe.hpp"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace ductile {
namespace detail {

// -1: not decided yet (DUCTILE_TRACE is read on first use), 0: off, 1: on.
DUCTILE_INLINE std::atomic<int>& trace_state() {
  static std::atomic<int> state{-1};
  return state;
}

struct observer_slot {
  std::mutex mutex;
  std::shared_ptr<observer> current;
  std::atomic<bool> present{false};
};

// Immortal: the background thread reports exits even while static
// destructors run at exit, so the slot (and the observer in it) must outlive them.
DUCTILE_INLINE observer_slot& observer_storage() {
  static observer_slot* const slot = new observer_slot();
  return *slot;
}

DUCTILE_INLINE bool tracing() noexcept {
  int state = trace_state().load(std::memory_order_relaxed);
  if (state < 0) {
    const char* value = std::getenv("DUCTILE_TRACE");
    const int from_env = value != nullptr && *value != '\0' && std::strcmp(value, "0") != 0 ? 1 : 0;
    trace_state().compare_exchange_strong(state, from_env);
    state = trace_state().load();
  }
  return state == 1;
}

DUCTILE_INLINE bool observing() noexcept {
  return tracing() || observer_storage().present.load(std::memory_order_acquire);
}

DUCTILE_INLINE std::shared_ptr<observer> current_observer() {
  auto& slot = observer_storage();
  if (!slot.present.load(std::memory_order_acquire)) return nullptr;
  std::lock_guard<std::mutex> lock(slot.mutex);
  return slot.current;
}

DUCTILE_INLINE void print_trace(const std::string& command) noexcept {
  // One write, so lines from several threads do not interleave mid-line.
  std::string line = "+ " + command + "\n";
  const char* data = line.data();
  std::size_t left = line.size();
  while (left > 0) {
    const ssize_t n = ::write(2, data, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data += n;
    left -= static_cast<std::size_t>(n);
  }
}

}  // namespace detail

DUCTILE_INLINE void trace(bool enabled) { detail::trace_state().store(enabled ? 1 : 0); }

DUCTILE_INLINE void set_observer(std::shared_ptr<observer> o) {
  auto& slot = detail::observer_storage();
  std::lock_guard<std::mutex> lock(slot.mutex);
  slot.present.store(o != nullptr, std::memory_order_release);
  slot.current = std::move(o);
}

}  // namespace ductile
