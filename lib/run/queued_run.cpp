#include "run/queued_run.hpp"

#include "run/driver.hpp"

namespace ductile::detail {

DUCTILE_INLINE void queued_run::launch() {
  background_driver* driver = nullptr;
  try {
    driver = &background_driver::instance_for(run_->command());
    run_->start(context{});  // does nothing if cancelled meanwhile
  } catch (...) {
    run_->fail(std::current_exception());
    return;
  }
  run_->notify_if_finished();
  if (!run_->is_finished()) driver->adopt(run_);
}

}  // namespace ductile::detail
