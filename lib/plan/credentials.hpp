#pragma once
// Credentials: what the modifiers asked for, resolved in the parent into plain
// data the child applies with raw system calls. Every name is looked up and
// every precondition checked here, before anything is spawned.

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "plan/plan.hpp"

namespace ductile::detail {

// Read by the child; everything is already decided.
struct child_credentials {
  bool new_session = false;
  int umask = -1;     // -1: unchanged
  bool keep = false;  // keep_caps() was given
  std::uint64_t kept = 0;
  bool change_bounding = false;
  std::uint64_t bounding_drops = 0;
  int last_capability = 40;
  bool switch_ids = false;
  const gid_t* groups = nullptr;
  std::size_t group_count = 0;
  gid_t gid = 0;
  uid_t uid = 0;
  bool no_new_privs = false;
};

struct resolved_credentials {
  child_credentials plan;
  std::vector<gid_t> groups;  // what plan.groups points into
  std::string user_name;      // for messages
};

// Throws spawn_error naming `command` when a name is unknown or the parent
// lacks what the request needs.
void resolve_credentials(const credential_request& request, const std::string& command, resolved_credentials& out);

// Words for a failure the child reported at a credential step.
std::string describe_credential_failure(int step, int error, const resolved_credentials& credentials);

}  // namespace ductile::detail
