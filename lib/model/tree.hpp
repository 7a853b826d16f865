#pragma once
// The expression tree: immutable nodes shared between copies and threads.
// Each method call on an expression adds one modifier node around its receiver.

#include <sys/types.h>

#include <chrono>
#include <ductile/caps.hpp>
#include <ductile/expression.hpp>
#include <map>
#include <memory>
#include <string>
#include <variant>

#include "os/descriptor.hpp"

namespace ductile::detail {

enum class stdio : int { in = 0, out = 1, err = 2 };

enum class redirect_kind {
  read_path,     // < path
  write_path,    // > path
  append_path,   // >> path
  descriptor,    // a descriptor the user passed
  null,          // /dev/null
  capture,       // into output::stdout_bytes / stderr_bytes
  tee,           // capture and forward to the previous target
  other_stream,  // 1>&2 or 2>&1
  swap,          // exchange stdout and stderr
};

struct redirect {
  stdio stream;
  redirect_kind kind;
  std::string path;
  std::shared_ptr<const unique_fd> fd;
};
struct feed_bytes {
  std::shared_ptr<const std::string> bytes;
};
struct set_dir {
  std::string path;
};
struct set_env {
  std::string name;
  std::string value;
};
struct remove_env {
  std::string name;
};
struct replace_env {
  std::shared_ptr<const std::map<std::string, std::string>> variables;
};
struct mark_unchecked {};
struct time_limit {
  std::chrono::nanoseconds duration;
  std::chrono::nanoseconds grace;
};
struct own_process_group {};

// Credentials: each a field of the children's credential request; inner wins.
using user_ref = std::variant<std::string, uid_t>;
using group_ref = std::variant<std::string, gid_t>;
struct run_as_user {
  user_ref who;
};
struct run_as_group {
  group_ref which;
};
struct supplementary_groups {
  std::vector<group_ref> list;
};
struct keep_capabilities {
  caps::set kept;
};
struct bounding_capabilities {
  caps::set allowed;
};
struct forbid_new_privileges {};
struct file_mode_mask {
  mode_t mask;
};
struct own_session {};
struct spawn_hook {
  spawn_hook_function hook;
};

using modifier =
    std::variant<redirect, feed_bytes, set_dir, set_env, remove_env, replace_env, mark_unchecked, spawn_hook,
                 time_limit, own_process_group, run_as_user, run_as_group, supplementary_groups, keep_capabilities,
                 bounding_capabilities, forbid_new_privileges, file_mode_mask, own_session>;

struct command_node {
  argument_list argv;
  bool program_is_path = false;
};
struct pipe_node {
  std::shared_ptr<const node> left;
  std::shared_ptr<const node> right;
};
struct then_node {
  std::shared_ptr<const node> left;
  std::shared_ptr<const node> right;
};
struct modifier_node {
  modifier change;
  std::shared_ptr<const node> inner;
};

struct node {
  std::variant<command_node, pipe_node, then_node, modifier_node> value;
};

// An overload set for std::visit: with no catch-all case, a modifier added to
// `modifier` without a case at every visit is a compile error.
template <class... Cases>
struct overloaded : Cases... {
  using Cases::operator()...;
};
template <class... Cases>
overloaded(Cases...) -> overloaded<Cases...>;

}  // namespace ductile::detail
