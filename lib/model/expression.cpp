// Building expressions: validation happens here, at the call, so that a bad
// argument is reported where it was written rather than when the tree runs.

#include <fcntl.h>
#include <fmt/format.h>

#include <ductile/expression.hpp>
#include <stdexcept>

#include "model/tree.hpp"
#include "os/system_calls.hpp"

namespace ductile {
namespace detail {

DUCTILE_INLINE void reject_nul(std::string_view text, std::string_view what) {
  if (text.find('\0') != std::string_view::npos)
    throw std::invalid_argument(fmt::format("{} contains a NUL byte: {:?}", what, text));
}

DUCTILE_INLINE void check_env_name(std::string_view name) {
  if (name.empty()) throw std::invalid_argument("environment variable name is empty");
  if (name.find('=') != std::string_view::npos)
    throw std::invalid_argument(fmt::format("environment variable name contains '=': {:?}", name));
  reject_nul(name, "environment variable name");
}

DUCTILE_INLINE expression wrap(const std::shared_ptr<const node>& inner, modifier change) {
  return expression(std::make_shared<const node>(node{modifier_node{std::move(change), inner}}));
}

DUCTILE_INLINE std::shared_ptr<const unique_fd> duplicate_for_tree(native_handle_type fd, std::string_view what) {
  unique_fd copy;
  if (const auto error = sys::duplicate_native(fd, copy))
    throw std::invalid_argument(fmt::format("{}({}): {}", what, fd, error.message()));
  return std::make_shared<const unique_fd>(std::move(copy));
}

// setresuid()/setresgid() read -1 as "leave this id as it is": a child asked
// to run as it would keep the parent's id (root's, for a privileged host).
template <class Id>
void reject_unchanged_id(Id id, const char* what) {
  if (id == static_cast<Id>(-1))
    throw std::invalid_argument(fmt::format("{}: {} is not an id; setresuid() and setresgid() read it as \"unchanged\"",
                                            what, static_cast<unsigned long>(id)));
}
DUCTILE_INLINE void append_signed(argument_list& out, long long value) { out.push_back(fmt::format("{}", value)); }
DUCTILE_INLINE void append_unsigned(argument_list& out, unsigned long long value) {
  out.push_back(fmt::format("{}", value));
}
DUCTILE_INLINE void append_floating(argument_list& out, double value) { out.push_back(fmt::format("{}", value)); }
DUCTILE_INLINE void append_floating(argument_list& out, long double value) { out.push_back(fmt::format("{}", value)); }

DUCTILE_INLINE expression make_command(argument_list argv, bool program_is_path) {
  if (argv.empty() || argv.front().empty()) throw std::invalid_argument("cmd(): the program is empty");
  reject_nul(argv.front(), "cmd(): the program");
  for (std::size_t i = 1; i < argv.size(); ++i) reject_nul(argv[i], fmt::format("cmd(): argument {}", i));
  return expression(std::make_shared<const node>(node{command_node{std::move(argv), program_is_path}}));
}

}  // namespace detail

using detail::redirect;
using detail::redirect_kind;
using detail::stdio;

DUCTILE_INLINE expression sh(std::string_view script) {
#ifdef _WIN32
  (void)script;
  throw std::invalid_argument(
      "sh(): not supported on this system: there is no /bin/sh; use cmd(\"cmd\", \"/c\", ...) or cmdline()");
#else
  return detail::make_command({"/bin/sh", "-c", std::string(script)}, false);
#endif
}

DUCTILE_INLINE expression operator|(const expression& left, const expression& right) { return left.pipe(right); }

DUCTILE_INLINE expression expression::pipe(const expression& right) const {
  return expression(std::make_shared<const detail::node>(detail::node{detail::pipe_node{node_, right.node_}}));
}

DUCTILE_INLINE expression expression::then(const expression& right) const {
  return expression(std::make_shared<const detail::node>(detail::node{detail::then_node{node_, right.node_}}));
}

DUCTILE_INLINE expression expression::stdin_bytes_text(std::string bytes) const {
  return detail::wrap(node_, detail::feed_bytes{std::make_shared<const std::string>(std::move(bytes))});
}
DUCTILE_INLINE expression expression::stdin_path(const path_arg& path) const {
  detail::reject_nul(path.str(), "stdin_path()");
  return detail::wrap(node_, redirect{stdio::in, redirect_kind::read_path, path.str(), nullptr, {}});
}
DUCTILE_INLINE expression expression::stdin_file(native_handle_type fd) const {
  return detail::wrap(
      node_, redirect{stdio::in, redirect_kind::descriptor, {}, detail::duplicate_for_tree(fd, "stdin_file"), {}});
}
DUCTILE_INLINE expression expression::stdin_null() const {
  return detail::wrap(node_, redirect{stdio::in, redirect_kind::null, {}, nullptr, {}});
}

DUCTILE_INLINE expression expression::stdout_path(const path_arg& path) const {
  detail::reject_nul(path.str(), "stdout_path()");
  return detail::wrap(node_, redirect{stdio::out, redirect_kind::write_path, path.str(), nullptr, {}});
}
DUCTILE_INLINE expression expression::stdout_append(const path_arg& path) const {
  detail::reject_nul(path.str(), "stdout_append()");
  return detail::wrap(node_, redirect{stdio::out, redirect_kind::append_path, path.str(), nullptr, {}});
}
DUCTILE_INLINE expression expression::stdout_file(native_handle_type fd) const {
  return detail::wrap(
      node_, redirect{stdio::out, redirect_kind::descriptor, {}, detail::duplicate_for_tree(fd, "stdout_file"), {}});
}
DUCTILE_INLINE expression expression::stdout_null() const {
  return detail::wrap(node_, redirect{stdio::out, redirect_kind::null, {}, nullptr, {}});
}
DUCTILE_INLINE expression expression::stdout_capture() const {
  return detail::wrap(node_, redirect{stdio::out, redirect_kind::capture, {}, nullptr, {}});
}
DUCTILE_INLINE expression expression::stdout_to_stderr() const {
  return detail::wrap(node_, redirect{stdio::out, redirect_kind::other_stream, {}, nullptr, {}});
}
DUCTILE_INLINE expression expression::stdout_tee() const {
  return detail::wrap(node_, redirect{stdio::out, redirect_kind::tee, {}, nullptr, {}});
}

DUCTILE_INLINE expression expression::stderr_path(const path_arg& path) const {
  detail::reject_nul(path.str(), "stderr_path()");
  return detail::wrap(node_, redirect{stdio::err, redirect_kind::write_path, path.str(), nullptr, {}});
}
DUCTILE_INLINE expression expression::stderr_append(const path_arg& path) const {
  detail::reject_nul(path.str(), "stderr_append()");
  return detail::wrap(node_, redirect{stdio::err, redirect_kind::append_path, path.str(), nullptr, {}});
}
DUCTILE_INLINE expression expression::stderr_file(native_handle_type fd) const {
  return detail::wrap(
      node_, redirect{stdio::err, redirect_kind::descriptor, {}, detail::duplicate_for_tree(fd, "stderr_file"), {}});
}
DUCTILE_INLINE expression expression::stderr_null() const {
  return detail::wrap(node_, redirect{stdio::err, redirect_kind::null, {}, nullptr, {}});
}
DUCTILE_INLINE expression expression::stderr_capture() const {
  return detail::wrap(node_, redirect{stdio::err, redirect_kind::capture, {}, nullptr, {}});
}
DUCTILE_INLINE expression expression::stderr_to_stdout() const {
  return detail::wrap(node_, redirect{stdio::err, redirect_kind::other_stream, {}, nullptr, {}});
}
DUCTILE_INLINE expression expression::stderr_tee() const {
  return detail::wrap(node_, redirect{stdio::err, redirect_kind::tee, {}, nullptr, {}});
}
DUCTILE_INLINE expression expression::stdout_stderr_swap() const {
  return detail::wrap(node_, redirect{stdio::out, redirect_kind::swap, {}, nullptr, {}});
}

DUCTILE_INLINE expression expression::dir(const path_arg& path) const {
  detail::reject_nul(path.str(), "dir()");
  return detail::wrap(node_, detail::set_dir{path.str()});
}
DUCTILE_INLINE expression expression::env(std::string_view name, std::string_view value) const {
  detail::check_env_name(name);
  detail::reject_nul(value, fmt::format("env(): the value of {}", name));
  return detail::wrap(node_, detail::set_env{std::string(name), std::string(value)});
}
DUCTILE_INLINE expression expression::env_remove(std::string_view name) const {
  detail::check_env_name(name);
  return detail::wrap(node_, detail::remove_env{std::string(name)});
}
DUCTILE_INLINE expression expression::full_env_map(std::map<std::string, std::string> variables) const {
  for (const auto& [name, value] : variables) {
    detail::check_env_name(name);
    detail::reject_nul(value, fmt::format("full_env(): the value of {}", name));
  }
  return detail::wrap(
      node_, detail::replace_env{std::make_shared<const detail::environment>(variables.begin(), variables.end())});
}
DUCTILE_INLINE expression expression::timeout(std::chrono::nanoseconds duration, std::chrono::nanoseconds grace) const {
  if (duration.count() < 0 || grace.count() < 0)
    throw std::invalid_argument("timeout(): durations must not be negative");
  return detail::wrap(node_, detail::time_limit{duration, grace});
}
DUCTILE_INLINE expression expression::own_cgroup() const { return own_cgroup(cgroup_options{}); }

DUCTILE_INLINE expression expression::own_cgroup(cgroup_options options) const {
  return detail::wrap(node_, detail::contain_in_cgroup{std::move(options)});
}

DUCTILE_INLINE expression expression::kill_on_parent_exit() const {
  return detail::wrap(node_, detail::die_with_parent{});
}
DUCTILE_INLINE expression expression::new_process_group() const {
  return detail::wrap(node_, detail::own_process_group{});
}
DUCTILE_INLINE expression expression::user(std::string_view name) const {
  if (name.empty()) throw std::invalid_argument("user(): the name is empty");
  detail::reject_nul(name, "user()");
  return detail::wrap(node_, detail::run_as_user{std::string(name)});
}
DUCTILE_INLINE expression expression::user(user_id uid) const {
  detail::reject_unchanged_id(uid, "user()");
  return detail::wrap(node_, detail::run_as_user{uid});
}
DUCTILE_INLINE expression expression::group(std::string_view name) const {
  if (name.empty()) throw std::invalid_argument("group(): the name is empty");
  detail::reject_nul(name, "group()");
  return detail::wrap(node_, detail::run_as_group{std::string(name)});
}
DUCTILE_INLINE expression expression::group(group_id gid) const {
  detail::reject_unchanged_id(gid, "group()");
  return detail::wrap(node_, detail::run_as_group{gid});
}
DUCTILE_INLINE expression expression::groups(const std::vector<std::string>& names) const {
  std::vector<detail::group_ref> list;
  for (const auto& name : names) {
    detail::reject_nul(name, "groups()");
    list.emplace_back(name);
  }
  return detail::wrap(node_, detail::supplementary_groups{std::move(list)});
}
DUCTILE_INLINE expression expression::groups(const std::vector<group_id>& ids) const {
  for (const group_id id : ids) detail::reject_unchanged_id(id, "groups()");
  std::vector<detail::group_ref> list(ids.begin(), ids.end());
  return detail::wrap(node_, detail::supplementary_groups{std::move(list)});
}
DUCTILE_INLINE expression expression::keep_caps(caps::set kept) const {
  return detail::wrap(node_, detail::keep_capabilities{kept});
}
DUCTILE_INLINE expression expression::keep_caps(std::string_view names) const {
  return keep_caps(caps::parse_set(names));
}
DUCTILE_INLINE expression expression::bounding_caps(caps::set allowed) const {
  return detail::wrap(node_, detail::bounding_capabilities{allowed});
}
DUCTILE_INLINE expression expression::no_new_privs() const {
  return detail::wrap(node_, detail::forbid_new_privileges{});
}
DUCTILE_INLINE expression expression::umask(mode_t mask) const {
  if (mask > 0777) throw std::invalid_argument("umask(): the mask must be at most 0777");
  return detail::wrap(node_, detail::file_mode_mask{mask});
}
DUCTILE_INLINE expression expression::new_session() const { return detail::wrap(node_, detail::own_session{}); }
DUCTILE_INLINE expression expression::unchecked() const { return detail::wrap(node_, detail::mark_unchecked{}); }
DUCTILE_INLINE expression expression::ok_codes(std::initializer_list<int> codes) const {
  return ok_codes(std::vector<int>(codes));
}
DUCTILE_INLINE expression expression::ok_codes(const std::vector<int>& codes) const {
#ifdef _WIN32
  // A Windows exit code has 32 bits: any int names one by its bit pattern
  // (-1 is 0xFFFFFFFF).
#else
  for (const int code : codes)
    if (code < 0 || code > 255) throw std::invalid_argument(fmt::format("ok_codes(): {} is not an exit code", code));
#endif
  return detail::wrap(node_, detail::accept_codes{codes});
}
DUCTILE_INLINE expression expression::combined_capture() const {
  return detail::wrap(node_, detail::combine_outputs{});
}
DUCTILE_INLINE expression expression::lines_target(int stream, detail::line_function fn) const {
  if (!fn) throw std::invalid_argument("stdout_lines()/stderr_lines(): the callback is empty");
  return detail::wrap(node_, redirect{static_cast<stdio>(stream), redirect_kind::lines, {}, nullptr, std::move(fn)});
}
DUCTILE_INLINE expression expression::pty() const { return detail::wrap(node_, detail::use_terminal{std::nullopt}); }
DUCTILE_INLINE expression expression::pty(pty_size size) const {
  if (size.rows == 0 || size.cols == 0) throw std::invalid_argument("pty(): rows and columns must not be 0");
  return detail::wrap(node_, detail::use_terminal{size});
}
DUCTILE_INLINE expression expression::stdin_pipe() const {
  return detail::wrap(node_, redirect{stdio::in, redirect_kind::caller_pipe, {}, nullptr, {}});
}
DUCTILE_INLINE expression expression::pass_fd(int child_fd, int parent_fd) const {
#ifdef _WIN32
  // A Windows child inherits exactly its three standard handles.
  throw std::invalid_argument(fmt::format("pass_fd({}, {}): not supported on this system", child_fd, parent_fd));
#else
  if (child_fd < 3)
    throw std::invalid_argument(
        fmt::format("pass_fd({}, {}): the child's descriptor must be 3 or above; 0, 1 and 2 have their own "
                    "redirects",
                    child_fd, parent_fd));
  if (child_fd > detail::highest_passed_fd)
    throw std::invalid_argument(fmt::format("pass_fd({}, {}): the child's descriptor must be at most {}", child_fd,
                                            parent_fd, detail::highest_passed_fd));
  return detail::wrap(node_, detail::pass_descriptor{child_fd, detail::duplicate_for_tree(parent_fd, "pass_fd")});
#endif
}
DUCTILE_INLINE expression expression::before_spawn_hook(detail::spawn_hook_function hook) const {
  if (!hook) throw std::invalid_argument("before_spawn(): the hook is empty");
  return detail::wrap(node_, detail::spawn_hook{std::move(hook)});
}

}  // namespace ductile
