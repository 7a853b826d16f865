#pragma once
// The one background thread that drives every started run of the process:
// handles, readers and line ranges never get a thread of their own.

#include <memory>
#include <mutex>
#include <vector>

#include "supervise.hpp"

namespace ductile::detail {

class background_driver {
 public:
  // Created, with its thread, on first use; lives until the process exits.
  static background_driver& instance();
  // Drives `run` until it has finished, whether or not anybody waits for it.
  void adopt(std::shared_ptr<execution> run);

 private:
  background_driver();
  void loop();
  void wake() noexcept;

  std::mutex mutex_;
  std::vector<std::shared_ptr<execution>> runs_;
  unique_fd wake_;
};

}  // namespace ductile::detail
