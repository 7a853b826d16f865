#pragma once
// Interrupts while an interrupt_guard is alive: a handler that only records
// the signal and signals one event; the event loops watch that event, and
// the one that wakes forwards the signal to every live run. The runs are found in a process-wide list that each
// execution joins when made and leaves when destroyed, with no run's lock held either time.

#include <atomic>
#include <mutex>

#include "common.hpp"

namespace ductile::detail {

class execution;
namespace sys {
struct event;
}

// The event signalled while an interrupt is pending, for the event loops to
// watch; null before the first guard. Made once, kept for the life of the
// process.
const sys::event* interrupt_event() noexcept;
// A signal has come that no run has taken yet. Its handler records it
// before it signals the event, so a loop that sees a child's end may see
// this before the event: a child the same Ctrl-C ended is then reported as
// interrupted, not as killed by SIGINT.
bool interrupt_pending() noexcept;
// The interrupt descriptor was readable: forwards the pending signal, if any,
// to every live run. A signal that no run takes (none is going) stays
// pending for the next run that joins. Call with no run's lock held.
void forward_interrupt();
// An interrupted_error is being thrown: interrupt_guard::interrupted() turns false.
void interrupt_thrown() noexcept;

// The list of live runs; an execution joins in its constructor (taking a
// pending signal, which interrupts it at once) and leaves in its destructor.
void join_interruptible(execution& run);
void leave_interruptible(execution& run) noexcept;

}  // namespace ductile::detail
