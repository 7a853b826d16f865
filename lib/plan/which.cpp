// which(): the program cmd(name) would execute, found the way the child finds
// it: the environment and directory the context's modifiers give it, and
// execvp's search through PATH.

#include <cstdlib>
#include <ductile/expression.hpp>
#include <stdexcept>

#include "model/tree.hpp"
#include "os/system_calls.hpp"
#include "plan/plan.hpp"

#ifdef _WIN32
#include "os/windows/program_search.hpp"
#include "os/windows/win32.hpp"
#endif

namespace ductile {
namespace detail {

// `path` made absolute against `base`, without `./` steps.
DUCTILE_INLINE std::string absolute_from(const std::string& base, std::string path) {
  while (path.size() > 2 && path.compare(0, 2, "./") == 0) path.erase(0, 2);
  if (!path.empty() && path.front() == '/') return path;
  if (path == ".") return base;
  return base == "/" ? "/" + path : base + "/" + path;
}

// What execve would accept: a regular file this process may execute.
DUCTILE_INLINE bool is_executable_file(const std::string& path) { return sys::is_executable_file(path.c_str()); }

// The environment and directory the outermost modifiers of `tree` give a
// command inside it, outer first as lowering applies them.
DUCTILE_INLINE void apply_context(const node& tree, context& ctx) {
  const node* current = &tree;
  while (const auto* m = std::get_if<modifier_node>(&current->value)) {
    if (const auto* d = modifier_as<set_dir>(m->change)) {
      ctx.dir = ctx.dir && d->path.front() != '/' ? *ctx.dir + "/" + d->path : d->path;
    } else if (const auto* e = modifier_as<set_env>(m->change)) {
      auto env = std::make_shared<environment>(snapshot_environment(ctx));
      (*env)[e->name] = e->value;
      ctx.env = std::move(env);
    } else if (const auto* removed = modifier_as<remove_env>(m->change)) {
      auto env = std::make_shared<environment>(snapshot_environment(ctx));
      env->erase(removed->name);
      ctx.env = std::move(env);
    } else if (const auto* full = modifier_as<replace_env>(m->change)) {
      ctx.env = full->variables;
    }
    current = m->inner.get();
  }
}

#ifdef _WIN32
// Windows: the child's PATH with its PATHEXT, as a start looks (lib/os/windows/program_search.hpp).
DUCTILE_INLINE std::wstring context_variable(const context& ctx, const char* name, const wchar_t* wide_name) {
  if (!ctx.env) return windows::inherited_variable(wide_name);
  const auto found = ctx.env->find(name);
  std::wstring value;
  if (found != ctx.env->end() && !windows::widen(found->second, value))
    throw std::invalid_argument(std::string("which(): ") + name + " is not valid UTF-8");
  return value;
}
#endif

DUCTILE_INLINE std::optional<std::string> find_program(std::string_view name, const context& ctx) {
  if (name.empty()) throw std::invalid_argument("which(): the name is empty");
  if (name.find('\0') != std::string_view::npos) throw std::invalid_argument("which(): the name contains a NUL byte");
#ifdef _WIN32
  std::wstring wide;
  if (!windows::widen(name, wide)) throw std::invalid_argument("which(): the name is not valid UTF-8");
  std::wstring extensions = context_variable(ctx, "PATHEXT", L"PATHEXT");
  if (extensions.empty()) extensions = windows::default_extensions;
  std::wstring found;
  if (!windows::find_program(wide, true, context_variable(ctx, "PATH", L"PATH"), extensions, found))
    return std::nullopt;
  return windows::narrow(windows::full_path(found));
#endif
#ifndef _WIN32
  const std::string parent = sys::working_directory();
  // A name with a slash is a path, relative to the parent (as cmd() resolves it).
  if (name.find('/') != std::string_view::npos) {
    std::string path = absolute_from(parent, std::string(name));
    if (is_executable_file(path)) return path;
    return std::nullopt;
  }
  const std::string child_dir = ctx.dir ? absolute_from(parent, *ctx.dir) : parent;
  std::string search = "/bin:/usr/bin";  // what the child searches without PATH
  if (ctx.env) {
    if (const auto found = ctx.env->find("PATH"); found != ctx.env->end()) search = found->second;
  } else if (const char* inherited = std::getenv("PATH")) {
    search = inherited;
  }
  for (std::size_t start = 0;;) {
    const std::size_t colon = search.find(':', start);
    std::string entry = search.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    if (entry.empty()) entry = ".";  // an empty entry means the current directory
    std::string candidate = absolute_from(child_dir, entry + "/" + std::string(name));
    if (is_executable_file(candidate)) return candidate;
    if (colon == std::string::npos) return std::nullopt;
    start = colon + 1;
  }
#endif
}

}  // namespace detail

DUCTILE_INLINE std::optional<std::string> which(std::string_view name) {
  return detail::find_program(name, detail::context{});
}

DUCTILE_INLINE std::optional<std::string> which(std::string_view name, const expression& context) {
  detail::context ctx;
  if (context.tree()) detail::apply_context(*context.tree(), ctx);
  return detail::find_program(name, ctx);
}

}  // namespace ductile
