#pragma once
// on(host): everything about a remote subtree is decided when on() is called,
// so a subtree that cannot cross is refused where it was written. Lowering
// turns the plan into one local `ssh` process (remote/session.hpp).

#include <ductile/expression.hpp>
#include <ductile/remote.hpp>
#include <string>

#include "model/tree.hpp"

namespace ductile::detail {

struct remote_plan {
  remote::host where;
  std::string script;  // the subtree as the POSIX sh script the far side runs
};

std::string remote_label(const remote_plan& plan);

// The subtree as a script for `sh -c SCRIPT ductile TOKEN`. It keeps the
// library's rules for pipes, `then`, unchecked, ok_codes and timeouts (not
// sh's), runs every command through `env` so that no shell builtin, function
// or keyword stands in for a program, and exits 0 when the subtree
// succeeded, else with the code of the process that decided. Throws
// std::invalid_argument for a modifier that has no remote form.
std::string remote_script(const node& subtree);

// e.on(h): the plan, with captures and other local stream targets at the top
// of `e` moved outside the ssh process, and unchecked/ok_codes there kept
// local so that the status the remote side reports keeps its meaning.
expression place_on(const expression& e, const remote::host& where);

}  // namespace ductile::detail
