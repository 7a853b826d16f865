#pragma once
// The credentials a child takes on before exec, as plain data: every name is
// resolved and every precondition checked in the parent (plan/credentials),
// and the child only applies what is written here, with raw system calls.

#include <cstddef>
#include <cstdint>
#include <ductile/native.hpp>

namespace ductile::detail {

struct child_credentials {
  bool new_session = false;
  int umask = -1;     // -1: unchanged
  bool keep = false;  // keep_caps() was given
  std::uint64_t kept = 0;
  bool change_bounding = false;
  std::uint64_t bounding_drops = 0;
  int last_capability = 40;
  bool switch_ids = false;
  const group_id* groups = nullptr;
  std::size_t group_count = 0;
  group_id gid = 0;
  user_id uid = 0;
  bool no_new_privs = false;
};

}  // namespace ductile::detail
