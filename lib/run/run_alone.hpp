#pragma once
// run() of a tree that is one process needing nothing from a run (see
// runs_alone() in plan/plan.hpp): no job tree, process table or event loop,
// one blocking wait. It gives what execution would, for a fraction of the
// instructions: the commonest call of a script, cmd(...).run(), pays only
// for its spawn.

#include <ductile/expression.hpp>
#include <ductile/output.hpp>

namespace ductile::detail {

// Whether run() may take this path now: the tree runs alone, and nobody
// observes spawns or waits for an interrupt, which need the general run.
bool may_run_alone(const expression& command) noexcept;
output run_alone(const expression& command);

}  // namespace ductile::detail
