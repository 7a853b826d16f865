#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <ductile/error.hpp>
#include <ductile/format.hpp>
#include <stdexcept>

#include "model/failure.hpp"
#include "os/cgroup.hpp"
#include "plan/plan.hpp"
#include "remote/far_side.hpp"

#ifdef _WIN32
#include <cwchar>

#include "os/windows/win32.hpp"
#else
extern char** environ;
#endif

namespace ductile::detail {

DUCTILE_INLINE environment parent_environment() {
  environment env;
#ifdef _WIN32
  // The C runtime's environ is in the ANSI code page; the library speaks UTF-8.
  std::vector<std::string> entries;
  if (wchar_t* block = ::GetEnvironmentStringsW()) {
    for (const wchar_t* entry = block; *entry != L'\0'; entry += std::wcslen(entry) + 1)
      entries.push_back(windows::narrow(entry));
    ::FreeEnvironmentStringsW(block);
  }
  for (const std::string& entry : entries) {
    const std::string_view text(entry);
#else
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
#endif
    const auto equals = text.find('=');
    if (equals == std::string_view::npos || equals == 0) continue;
    env.emplace(std::string(text.substr(0, equals)), std::string(text.substr(equals + 1)));
  }
  return env;
}

DUCTILE_INLINE environment snapshot_environment(const context& ctx) {
  return ctx.env ? *ctx.env : parent_environment();
}

DUCTILE_INLINE std::string subtree_text(const node& tree) {
  return to_string(expression(std::shared_ptr<const node>(std::shared_ptr<const node>(), &tree)));
}

DUCTILE_INLINE stdio_target open_redirect(const node& tree, const redirect& r) {
  int flags = O_RDONLY;
  std::string path = r.path;
  switch (r.kind) {
    case redirect_kind::read_path: flags = O_RDONLY; break;
    case redirect_kind::write_path: flags = O_WRONLY | O_CREAT | O_TRUNC; break;
    case redirect_kind::append_path: flags = O_WRONLY | O_CREAT | O_APPEND; break;
    case redirect_kind::null:
      path = sys::null_device;
      flags = r.stream == stdio::in ? O_RDONLY : O_WRONLY;
      break;
    default: break;
  }
  unique_fd fd;
  if (const auto error = sys::open_file(path.c_str(), flags, fd)) {
    const char* names[] = {"stdin", "stdout", "stderr"};
    const char* name = names[static_cast<int>(r.stream)];
    const std::string command = subtree_text(tree);
    throw_spawn_error(command, fmt::format("open {}", name),
                      fmt::format("cannot open {} for {}: {}", shell_quote(path), name, error.message()), error);
  }
  auto owner = std::make_shared<const unique_fd>(std::move(fd));
  return stdio_target{owner->get(), owner};
}

DUCTILE_INLINE void apply_redirect(const node& tree, const redirect& r, context& ctx, stream_sink& sink) {
  auto& target = ctx.streams[static_cast<int>(r.stream)];
  switch (r.kind) {
    case redirect_kind::read_path:
    case redirect_kind::write_path:
    case redirect_kind::append_path:
    case redirect_kind::null: target = open_redirect(tree, r); break;
    case redirect_kind::descriptor: target = stdio_target{r.fd->get(), r.fd}; break;
    case redirect_kind::capture: target = sink.capture(r.stream); break;
    case redirect_kind::tee: target = sink.tee(r.stream, target); break;
    case redirect_kind::other_stream: target = ctx.streams[r.stream == stdio::out ? 2 : 1]; break;
    case redirect_kind::swap: std::swap(ctx.streams[1], ctx.streams[2]); break;
    case redirect_kind::lines: target = sink.lines(r.stream, r.on_line); break;
    case redirect_kind::caller_pipe: target = sink.caller_pipe(); break;
  }
}

// Outer modifiers are applied first, so an inner one for the same number replaces it.
DUCTILE_INLINE void pass_descriptor_to(const pass_descriptor& passed, context& ctx) {
  const stdio_target source{passed.fd->get(), passed.fd};
  for (auto& existing : ctx.passed) {
    if (existing.child_fd == passed.child_fd) {
      existing.source = source;
      return;
    }
  }
  ctx.passed.push_back(passed_fd{passed.child_fd, source});
}

DUCTILE_INLINE environment& editable_environment(context& ctx) {
  auto copy = std::make_shared<environment>(snapshot_environment(ctx));
  environment& env = *copy;
  ctx.env = std::move(copy);
  return env;
}

// A private copy of the credentials asked for so far, which outer modifiers
// share: most trees ask for none, and then carry no more than a null pointer.
DUCTILE_INLINE credential_request& editable_credentials(context& ctx) {
  auto copy =
      ctx.credentials ? std::make_shared<credential_request>(*ctx.credentials) : std::make_shared<credential_request>();
  credential_request& request = *copy;
  ctx.credentials = std::move(copy);
  return request;
}

DUCTILE_INLINE void apply_modifier(const node& tree, const modifier& change, context& ctx, stream_sink& sink) {
  visit_modifier(overloaded{
                     [&](const redirect& r) { apply_redirect(tree, r, ctx, sink); },
                     [&](const feed_bytes& bytes) { ctx.streams[0] = sink.feed(bytes.bytes); },
                     [&](const combine_outputs&) {
                       ctx.streams[1] = sink.capture(stdio::out);
                       ctx.streams[2] = sink.capture(stdio::err);
                       sink.combine();
                     },
                     [&](const pass_descriptor& passed) { pass_descriptor_to(passed, ctx); },
                     [&](const use_terminal& t) {
                       const stdio_target slave = sink.terminal(t.size, ctx.streams[0], ctx.streams[1], ctx.terminal);
                       ctx.streams = {slave, slave, slave};
                     },
                     [&](const set_dir& d) { ctx.dir = d.path; },
                     [&](const set_env& e) { editable_environment(ctx)[e.name] = e.value; },
                     [&](const remove_env& removed) { editable_environment(ctx).erase(removed.name); },
                     [&](const replace_env& full) { ctx.env = full.variables; },
                     [&](const spawn_hook& hook) { ctx.hooks.push_back(hook.hook); },
                     [&](const own_process_group&) { ctx.group = std::make_shared<group_slot>(); },
                     [&](const die_with_parent&) { ctx.kill_on_parent_exit = true; },
                     [&](const run_as_user& u) { editable_credentials(ctx).user = u.who; },
                     [&](const run_as_group& g) { editable_credentials(ctx).group = g.which; },
                     [&](const supplementary_groups& list) { editable_credentials(ctx).groups = list.list; },
                     [&](const keep_capabilities& keep) { editable_credentials(ctx).keep = keep.kept; },
                     [&](const bounding_capabilities& bound) { editable_credentials(ctx).bounding = bound.allowed; },
                     [&](const forbid_new_privileges&) { editable_credentials(ctx).no_new_privs = true; },
                     [&](const file_mode_mask& mask) { editable_credentials(ctx).umask = mask.mask; },
                     [&](const own_session&) { editable_credentials(ctx).new_session = true; },
                     // Scopes of the job tree, not context: lower() makes them.
                     [](const time_limit&) {},
                     [](const mark_unchecked&) {},
                     [](const accept_codes&) {},
                     [](const contain_in_cgroup&) {},
                     [](const run_remotely&) {},
                 },
                 change);
}

// A node of the job tree around `inner`: a timeout or an unchecked scope.
DUCTILE_INLINE std::unique_ptr<job> lower_scope(job::kind type, const node& inner, context&& ctx, stream_sink& sink) {
  auto scope = std::make_unique<job>();
  scope->type = type;
  scope->position = ctx.position;
  ctx.position += '0';
  scope->left = lower(inner, std::move(ctx), sink);
  scope->left->parent = scope.get();
  return scope;
}

// An on() subtree: one local process, ssh or srun, whose streams are the subtree's.
DUCTILE_INLINE std::unique_ptr<job> lower_remote(const node& tree, const run_remotely& remote, context&& ctx) {
  auto leaf = std::make_unique<job>();
  leaf->type = job::kind::process;
  leaf->position = ctx.position;
  leaf->command = &tree;
  command_node carrier;
  auto opened = open_far_side(*remote.plan, carrier.argv);
  for (auto& [name, value] : opened.environment) editable_environment(ctx)[name] = std::move(value);
  leaf->launch.emplace(carrier, std::move(ctx), tree);
  std::shared_ptr<const far_side> side = std::move(opened.side);
  if (side->prepares()) {
    // Done just before the local process starts, with the other hooks of the
    // launch (last, after the user's): lowering itself does nothing on the far side.
    const node* subtree = &tree;
    leaf->launch->settings.hooks.push_back(
        spawn_hook_function([side, subtree](spawn_spec&) { side->prepare(format_command_line(*subtree)); }));
  }
  leaf->launch->remote = std::move(side);
  return leaf;
}

DUCTILE_INLINE std::unique_ptr<job> lower(const node& tree, context&& ctx, stream_sink& sink) {
  if (const auto* m = std::get_if<modifier_node>(&tree.value)) {
    if (const auto* limit = modifier_as<time_limit>(m->change)) {
      auto scope = lower_scope(job::kind::scope, *m->inner, std::move(ctx), sink);
      scope->limit = time_limit_state{limit->duration, limit->grace, {}, false, {}, false};
      return scope;
    }
    if (modifier_as<mark_unchecked>(m->change) != nullptr)
      return lower_scope(job::kind::unchecked, *m->inner, std::move(ctx), sink);
    if (const auto* accepted = modifier_as<accept_codes>(m->change)) {
      auto scope = lower_scope(job::kind::accept, *m->inner, std::move(ctx), sink);
      scope->ok_codes = accepted->codes;
      return scope;
    }
    if (const auto* contained = modifier_as<contain_in_cgroup>(m->change)) {
      auto made = cgroup_scope::create(contained->options, ctx.cgroup.get(), subtree_text(tree));
      ctx.cgroup = made;
      auto scope = lower_scope(job::kind::contained, *m->inner, std::move(ctx), sink);
      scope->cgroup = std::move(made);
      return scope;
    }
    if (const auto* remote = modifier_as<run_remotely>(m->change)) return lower_remote(tree, *remote, std::move(ctx));
    apply_modifier(tree, m->change, ctx, sink);
    return lower(*m->inner, std::move(ctx), sink);
  }
  auto result = std::make_unique<job>();
  result->position = ctx.position;
  if (const auto* command = std::get_if<command_node>(&tree.value)) {
    result->type = job::kind::process;
    result->command = &tree;
    // Built in place from the context, which this call owns.
    result->launch.emplace(*command, std::move(ctx), tree);
  } else if (const auto* p = std::get_if<pipe_node>(&tree.value)) {
    result->type = job::kind::pipe;
    pipe_ends ends;
    if (const auto error = sys::make_pipe(ends)) {
      const std::string command = subtree_text(tree);
      throw_spawn_error(command, "pipe", "make a pipe", error);
    }
    auto read_end = std::make_shared<const unique_fd>(std::move(ends.read));
    auto write_end = std::make_shared<const unique_fd>(std::move(ends.write));
    context left_ctx = ctx;
    left_ctx.streams[1] = stdio_target{write_end->get(), write_end};
    left_ctx.position += '0';
    context right_ctx = std::move(ctx);
    right_ctx.streams[0] = stdio_target{read_end->get(), read_end};
    right_ctx.position += '1';
    write_end.reset();
    read_end.reset();
    result->left = lower(*p->left, std::move(left_ctx), sink);
    result->right = lower(*p->right, std::move(right_ctx), sink);
  } else {
    const auto* t = std::get_if<then_node>(&tree.value);
    result->type = job::kind::then;
    context left_ctx = ctx;
    left_ctx.position += '0';
    ctx.position += '1';
    result->left = lower(*t->left, std::move(left_ctx), sink);
    result->deferred = t->right;
    result->deferred_context = std::make_unique<context>(std::move(ctx));
  }
  if (result->left) result->left->parent = result.get();
  if (result->right) result->right->parent = result.get();
  return result;
}

// The sink of a tree that runs alone: runs_alone() let through no modifier
// that asks it for anything.
class no_streams final : public stream_sink {
 public:
  stdio_target capture(stdio) override { refuse(); }
  stdio_target tee(stdio, stdio_target) override { refuse(); }
  stdio_target feed(std::shared_ptr<const std::string>) override { refuse(); }
  stdio_target lines(stdio, line_function) override { refuse(); }
  stdio_target caller_pipe() override { refuse(); }
  stdio_target terminal(const std::optional<pty_size>&, stdio_target, stdio_target,
                        std::shared_ptr<terminal_slot>&) override {
    refuse();
  }
  void combine() override { refuse(); }

 private:
  [[noreturn]] static void refuse() { throw std::logic_error("lower_alone: a modifier that needs the run's streams"); }
};

DUCTILE_INLINE bool plain_redirect(const redirect& r) noexcept {
  switch (r.kind) {
    case redirect_kind::read_path:
    case redirect_kind::write_path:
    case redirect_kind::append_path:
    case redirect_kind::null:
    case redirect_kind::descriptor:
    case redirect_kind::other_stream:
    case redirect_kind::swap: return true;
    case redirect_kind::capture:
    case redirect_kind::tee:
    case redirect_kind::lines:
    case redirect_kind::caller_pipe: return false;
  }
  return false;
}

DUCTILE_INLINE bool runs_alone(const node& tree) noexcept {
  const node* at = &tree;
  while (const auto* m = std::get_if<modifier_node>(&at->value)) {
    // No default case: a new modifier is not let through until it is listed.
    const bool plain = visit_modifier(overloaded{
                                          [](const redirect& r) { return plain_redirect(r); },
                                          [](const feed_bytes&) { return false; },
                                          [](const combine_outputs&) { return false; },
                                          [](const pass_descriptor&) { return true; },
                                          [](const use_terminal&) { return false; },
                                          [](const set_dir&) { return true; },
                                          [](const set_env&) { return true; },
                                          [](const remove_env&) { return true; },
                                          [](const replace_env&) { return true; },
                                          [](const run_as_user&) { return true; },
                                          [](const run_as_group&) { return true; },
                                          [](const supplementary_groups&) { return true; },
                                          [](const keep_capabilities&) { return true; },
                                          [](const bounding_capabilities&) { return true; },
                                          [](const forbid_new_privileges&) { return true; },
                                          [](const file_mode_mask&) { return true; },
                                          [](const own_session&) { return true; },
                                          [](const spawn_hook&) { return false; },
                                          [](const own_process_group&) { return true; },
                                          [](const die_with_parent&) { return true; },
                                          [](const mark_unchecked&) { return true; },
                                          [](const time_limit&) { return false; },
                                          [](const accept_codes&) { return false; },
                                          [](const contain_in_cgroup&) { return false; },
                                          [](const run_remotely&) { return false; },
                                      },
                                      m->change);
    if (!plain) return false;
    at = m->inner.get();
  }
  return std::holds_alternative<command_node>(at->value);
}

// What lower() would put in the tree's one leaf, applied in the same order.
// Made in place, with the arguments borrowed: a plain run() is mostly this
// and the spawn, and a copy of each would be a good part of its cost.
DUCTILE_INLINE void lower_alone(const node& tree, bool& checked, process_launch& launch) {
  no_streams sink;
  checked = true;
  const node* at = &tree;
  while (const auto* m = std::get_if<modifier_node>(&at->value)) {
    if (modifier_as<mark_unchecked>(m->change) != nullptr)
      checked = false;
    else
      apply_modifier(*at, m->change, launch.settings, sink);
    at = m->inner.get();
  }
  const command_node& command = std::get<command_node>(at->value);
  launch.borrowed_argv = &command.argv;
  launch.program_is_path = command.program_is_path;
  launch.command = at;
}

}  // namespace ductile::detail
