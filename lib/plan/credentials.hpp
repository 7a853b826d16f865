#pragma once
// Credentials: what the modifiers asked for, resolved in the parent into plain
// data the child applies with raw system calls. Every name is looked up and
// every precondition checked here, before anything is spawned.

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "os/child_credentials.hpp"
#include "plan/plan.hpp"

namespace ductile::detail {

struct resolved_credentials {
  child_credentials plan;
  std::vector<group_id> groups;  // what plan.groups points into
  std::string user_name;         // for messages
};

// Throws spawn_error naming `command` when a name is unknown or the parent
// lacks what the request needs.
void resolve_credentials(const credential_request& request, const std::string& command, resolved_credentials& out);

// Words for a failure the child reported at a credential step.
std::string describe_credential_failure(int step, int error, const resolved_credentials& credentials);

}  // namespace ductile::detail
