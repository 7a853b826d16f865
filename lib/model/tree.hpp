#pragma once
// The expression tree: immutable nodes shared between copies and threads.
// Each method call on an expression adds one modifier node around its receiver.

#include <chrono>
#include <ductile/caps.hpp>
#include <ductile/expression.hpp>
#include <ductile/native.hpp>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

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
  lines,         // each line to a callback, on the thread that drives the run
  caller_pipe,   // stdin: a pipe the caller writes through input()
};

struct redirect {
  stdio stream;
  redirect_kind kind;
  std::string path;
  std::shared_ptr<const unique_fd> fd;
  line_function on_line;  // lines only
};
struct feed_bytes {
  std::shared_ptr<const std::string> bytes;
};
// stdin, stdout and stderr on a new pseudo-terminal; no size: the parent's.
struct use_terminal {
  std::optional<pty_size> size;
};
// Both outputs captured, and also interleaved in arrival order.
struct combine_outputs {};
// A descriptor above 2 the children receive as `child_fd`.
inline constexpr int highest_passed_fd = 65535;
struct pass_descriptor {
  int child_fd;
  std::shared_ptr<const unique_fd> fd;
};
struct set_dir {
  std::string path;
};
// Environment names: Windows compares them without case (Path and PATH are
// one variable), POSIX systems byte for byte.
#ifdef _WIN32
struct environment_name_less {
  bool operator()(const std::string& a, const std::string& b) const noexcept {
    const std::size_t n = a.size() < b.size() ? a.size() : b.size();
    for (std::size_t i = 0; i < n; ++i) {
      const auto upper = [](char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; };
      const char x = upper(a[i]), y = upper(b[i]);
      if (x != y) return static_cast<unsigned char>(x) < static_cast<unsigned char>(y);
    }
    return a.size() < b.size();
  }
};
using environment = std::map<std::string, std::string, environment_name_less>;
#else
using environment = std::map<std::string, std::string>;
#endif

struct set_env {
  std::string name;
  std::string value;
};
struct remove_env {
  std::string name;
};
struct replace_env {
  std::shared_ptr<const environment> variables;
};
struct mark_unchecked {};
// Exit codes that count as success for the subtree.
struct accept_codes {
  std::vector<int> codes;
};
struct time_limit {
  std::chrono::nanoseconds duration;
  std::chrono::nanoseconds grace;
};
struct own_process_group {};
// own_cgroup(): a scope of the job tree whose processes share a new cgroup.
struct contain_in_cgroup {
  cgroup_options options;
};
// on(host): the subtree runs on another machine as one local `ssh` process.
// Everything about it is worked out when on() is called (remote/plan.hpp).
struct remote_plan;
struct run_remotely {
  std::shared_ptr<const remote_plan> plan;
};
// PR_SET_PDEATHSIG: the children die with the process that runs them.
struct die_with_parent {};

// Credentials: each a field of the children's credential request; inner wins.
using user_ref = std::variant<std::string, user_id>;
using group_ref = std::variant<std::string, group_id>;
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

// Modifiers come in families; a family is a closed set, and so is the set of
// families. visit_modifier() reaches the member, so a visitor without a case
// for every member of every family does not compile.
using stream_modifier = std::variant<redirect, feed_bytes, combine_outputs, pass_descriptor, use_terminal>;
using environment_modifier = std::variant<set_dir, set_env, remove_env, replace_env>;
using credential_modifier = std::variant<run_as_user, run_as_group, supplementary_groups, keep_capabilities,
                                         bounding_capabilities, forbid_new_privileges, file_mode_mask, own_session>;
using process_modifier = std::variant<spawn_hook, own_process_group, die_with_parent>;
// Not settings of a process: scopes of the job tree around the subtree.
using scope_modifier = std::variant<mark_unchecked, time_limit, accept_codes, contain_in_cgroup, run_remotely>;
using modifier =
    std::variant<stream_modifier, environment_modifier, credential_modifier, process_modifier, scope_modifier>;

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

// Calls `visitor` with the member of the modifier's family.
template <class Visitor>
decltype(auto) visit_modifier(Visitor&& visitor, const modifier& change) {
  return std::visit([&](const auto& family) -> decltype(auto) { return std::visit(visitor, family); }, change);
}

// The member `T` of a modifier, or nullptr.
template <class T>
const T* modifier_as(const modifier& change) noexcept {
  return visit_modifier(
      [](const auto& member) -> const T* {
        if constexpr (std::is_same_v<std::decay_t<decltype(member)>, T>)
          return &member;
        else
          return nullptr;
      },
      change);
}

// A subtree as a person would type it in sh (lib/model/format.cpp): what
// error messages name as the command.
std::string format_command_line(const node& n);

}  // namespace ductile::detail
