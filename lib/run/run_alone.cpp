#include "run/run_alone.hpp"

#include <ductile/error.hpp>
#include <ductile/format.hpp>

#include "model/status_message.hpp"
#include "os/system_calls.hpp"
#include "plan/plan.hpp"
#include "run/interrupt.hpp"
#include "run/observe.hpp"
#include "run/process_table.hpp"
#include "run/spawn.hpp"

namespace ductile::detail {

DUCTILE_INLINE bool may_run_alone(const expression& command) noexcept {
  return runs_alone(*command.tree()) && interrupt_event() == nullptr && !observing();
}

DUCTILE_INLINE output run_alone(const expression& command) {
  bool checked = true;
  prepared_spawn prepared;
  lower_alone(*command.tree(), checked, prepared.launch);
  prepare_launch(prepared);
  spawned_process child = spawn_prepared(prepared);
  // Nothing between the spawn and the reap can throw: the child is never
  // left unreaped.
  sys::process_exit ended;
  (void)sys::await_exit(child.process, ended);
  child.process.pidfd.reset();
  output result;
  process_record& record = result.processes.emplace_back();
  record.program = std::move(child.program);
  record.pid = child.process.pid;
  record_exit(ended, record);
  result.status = record.status;
  if (checked && !result.status.success()) {
    const std::string text = to_string(command);
    throw status_error(failure_message(text, std::string(), result), text, result);
  }
  return result;
}

}  // namespace ductile::detail
