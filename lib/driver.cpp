#include "driver.hpp"

#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <system_error>
#include <thread>

namespace ductile::detail {

DUCTILE_INLINE background_driver& background_driver::instance() {
  // Never destroyed: the thread may still be polling while static destructors run.
  static background_driver* driver = new background_driver();
  return *driver;
}

DUCTILE_INLINE background_driver::background_driver() {
  if (const auto error = sys::make_event(0, wake_)) throw std::system_error(error, "ductile: eventfd");
  // The thread inherits the creator's signal mask: block everything so that
  // the host's signals are delivered to its own threads, and a pipe write
  // here can never raise a process-killing SIGPIPE.
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  std::thread([this] { loop(); }).detach();
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
}

DUCTILE_INLINE void background_driver::wake() noexcept { sys::signal_event(wake_.get()); }

DUCTILE_INLINE void background_driver::adopt(std::shared_ptr<execution> run) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    runs_.push_back(std::move(run));
  }
  wake();
}

DUCTILE_INLINE void background_driver::loop() {
  std::vector<std::shared_ptr<execution>> runs;
  std::vector<pollfd> fds;
  std::vector<std::size_t> offsets;
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      runs = runs_;
    }
    fds.clear();
    offsets.clear();
    fds.push_back(pollfd{wake_.get(), POLLIN, 0});
    std::optional<steady_time> next;
    for (const auto& run : runs) {
      offsets.push_back(fds.size());
      std::lock_guard<std::mutex> lock(run->mutex);
      if (run->finished()) continue;
      run->collect(fds);
      const auto deadline = run->next_deadline();
      if (deadline && (!next || *deadline < *next)) next = deadline;
    }
    offsets.push_back(fds.size());

    int ready = 0;
    const auto poll_error = sys::poll_fds(fds.data(), fds.size(), milliseconds_until(next), ready);
    if (fds[0].revents != 0) sys::drain_event(wake_.get());

    bool any_finished = false;
    for (std::size_t i = 0; i < runs.size(); ++i) {
      bool finished;
      {
        std::lock_guard<std::mutex> lock(runs[i]->mutex);
        if (poll_error)
          runs[i]->abandon_supervision(poll_error);
        else if (!runs[i]->finished())
          runs[i]->dispatch(fds.data() + offsets[i], offsets[i + 1] - offsets[i]);
        finished = runs[i]->finished();
      }
      // Outside the run's lock: a pool's callback starts other runs.
      if (finished) runs[i]->notify_if_finished();
      any_finished = any_finished || finished;
    }
    if (any_finished) {
      std::lock_guard<std::mutex> lock(mutex_);
      runs_.erase(std::remove_if(runs_.begin(), runs_.end(),
                                 [](const std::shared_ptr<execution>& run) {
                                   std::lock_guard<std::mutex> run_lock(run->mutex);
                                   return run->finished();
                                 }),
                  runs_.end());
    }
    // Drop our references outside any lock: the last one may destroy a run.
    runs.clear();
  }
}

}  // namespace ductile::detail
