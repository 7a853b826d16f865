// Printing expressions as `sh` text, and statuses as words.

#include <csignal>
#include <ductile/format.hpp>
#include <optional>
#include <vector>

#include "model/status_message.hpp"
#include "model/tree.hpp"
#include "remote/plan.hpp"

namespace ductile {
namespace detail {

// Precedence of `sh` constructs, loosest first; a child printed where a
// tighter one is expected gets parentheses.
enum class shell_level : int { sequence = 0, and_list = 1, pipeline = 2, simple = 3 };

DUCTILE_INLINE bool is_shell_safe(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == '.' || c == '/' || c == ',' || c == ':' || c == '@' || c == '%' || c == '+';
}

DUCTILE_INLINE const char* stream_prefix(stdio stream) {
  switch (stream) {
    case stdio::in: return "<";
    case stdio::out: return ">";
    case stdio::err: return "2>";
  }
  return ">";
}

DUCTILE_INLINE const char* stream_name(stdio stream) {
  switch (stream) {
    case stdio::in: return "stdin";
    case stdio::out: return "stdout";
    case stdio::err: return "stderr";
  }
  return "stdout";
}

DUCTILE_INLINE std::string describe_redirect(const redirect& r) {
  const std::string prefix = stream_prefix(r.stream);
  switch (r.kind) {
    case redirect_kind::read_path: return "<" + shell_quote(r.path);
    case redirect_kind::write_path: return prefix + shell_quote(r.path);
    case redirect_kind::append_path: return (r.stream == stdio::err ? "2>>" : ">>") + shell_quote(r.path);
    case redirect_kind::null: return prefix + "/dev/null";
    case redirect_kind::other_stream: return r.stream == stdio::out ? ">&2" : "2>&1";
    case redirect_kind::descriptor: return fmt::format("[{}_file]", stream_name(r.stream));
    case redirect_kind::capture: return fmt::format("[{}_capture]", stream_name(r.stream));
    case redirect_kind::tee: return fmt::format("[{}_tee]", stream_name(r.stream));
    case redirect_kind::swap: return "[stdout_stderr_swap]";
    case redirect_kind::lines: return fmt::format("[{}_lines]", stream_name(r.stream));
    case redirect_kind::caller_pipe: return "[stdin_pipe]";
  }
  return {};
}

DUCTILE_INLINE std::string format_duration(std::chrono::nanoseconds d) {
  using namespace std::chrono;
  if (d.count() % 1000000000 == 0) return fmt::format("{}s", duration_cast<seconds>(d).count());
  if (d.count() % 1000000 == 0) return fmt::format("{}ms", duration_cast<milliseconds>(d).count());
  return fmt::format("{}ns", d.count());
}

DUCTILE_INLINE std::string describe_id(const std::variant<std::string, unsigned>& id) {
  if (const auto* name = std::get_if<std::string>(&id)) return shell_quote(*name);
  return std::to_string(std::get<unsigned>(id));
}

struct shell_printer {
  // `omit_unchecked`: the caller already shows it as `a; b`.
  std::string print(const node& n, shell_level needed, bool omit_unchecked = false) const {
    std::vector<const modifier*> chain;  // outer to inner
    const node* base = &n;
    while (const auto* m = std::get_if<modifier_node>(&base->value)) {
      chain.push_back(&m->change);
      base = m->inner.get();
    }
    std::string prefix, suffix;
    const bool base_is_command = std::holds_alternative<command_node>(base->value);
    using word = std::optional<std::string>;  // nothing: shown another way, or not at all
    for (const modifier* change : chain) {
      const word shown = visit_modifier(
          overloaded{
              [&](const redirect& r) -> word { return describe_redirect(r); },
              [&](const set_env& e) -> word {
                if (!base_is_command) return "[env " + e.name + "=" + shell_quote(e.value) + "]";
                prefix += e.name + "=" + shell_quote(e.value) + " ";
                return std::nullopt;
              },
              [](const feed_bytes& bytes) -> word { return fmt::format("[stdin_bytes {}]", bytes.bytes->size()); },
              [](const combine_outputs&) -> word { return "[combined_capture]"; },
              [](const use_terminal& t) -> word {
                if (!t.size) return "[pty]";
                return fmt::format("[pty {}x{}]", t.size->rows, t.size->cols);
              },
              [](const pass_descriptor& passed) -> word { return fmt::format("[pass_fd {}]", passed.child_fd); },
              [](const accept_codes& accepted) -> word {
                std::string text = "[ok_codes ";
                for (std::size_t i = 0; i < accepted.codes.size(); ++i)
                  text += (i == 0 ? "" : ",") + std::to_string(accepted.codes[i]);
                return text + "]";
              },
              [](const set_dir& d) -> word { return "[dir " + shell_quote(d.path) + "]"; },
              [](const remove_env& removed) -> word { return "[env_remove " + removed.name + "]"; },
              [](const replace_env& full) -> word { return fmt::format("[full_env {}]", full.variables->size()); },
              [&](const mark_unchecked&) -> word {
                if (omit_unchecked) return std::nullopt;
                return "[unchecked]";
              },
              [](const spawn_hook&) -> word { return "[before_spawn]"; },
              [](const time_limit& limit) -> word { return "[timeout " + format_duration(limit.duration) + "]"; },
              [](const own_process_group&) -> word { return "[new_process_group]"; },
              [](const die_with_parent&) -> word { return "[kill_on_parent_exit]"; },
              [](const contain_in_cgroup&) -> word { return "[own_cgroup]"; },
              [](const run_remotely& remote) -> word { return "[on " + remote_label(*remote.plan) + "]"; },
              [](const run_as_user& u) -> word { return "[user " + describe_id(u.who) + "]"; },
              [](const run_as_group& g) -> word { return "[group " + describe_id(g.which) + "]"; },
              [](const supplementary_groups& list) -> word {
                std::string text = "[groups";
                for (const auto& g : list.list) text += " " + describe_id(g);
                return text + "]";
              },
              [](const keep_capabilities& keep) -> word { return "[keep_caps " + caps::to_string(keep.kept) + "]"; },
              [](const bounding_capabilities& bound) -> word {
                return "[bounding_caps " + caps::to_string(bound.allowed) + "]";
              },
              [](const forbid_new_privileges&) -> word { return "[no_new_privs]"; },
              [](const file_mode_mask& mask) -> word { return fmt::format("[umask {:03o}]", mask.mask); },
              [](const own_session&) -> word { return "[new_session]"; },
          },
          *change);
      if (shown) suffix += " " + *shown;
    }
    if (prefix.empty() && suffix.empty()) return print_base(*base, needed);
    return prefix + print_base(*base, shell_level::simple) + suffix;
  }

  std::string print_base(const node& n, shell_level needed) const {
    std::string text;
    shell_level level = shell_level::simple;
    if (const auto* c = std::get_if<command_node>(&n.value)) {
      for (const auto& arg : c->argv) {
        if (!text.empty()) text += ' ';
        text += shell_quote(arg);
      }
    } else if (const auto* p = std::get_if<pipe_node>(&n.value)) {
      level = shell_level::pipeline;
      text = print(*p->left, shell_level::pipeline) + " | " + print(*p->right, shell_level::simple);
    } else if (const auto* t = std::get_if<then_node>(&n.value)) {
      const bool left_unchecked = has_outer_unchecked(*t->left);
      level = left_unchecked ? shell_level::sequence : shell_level::and_list;
      text = print(*t->left, level, left_unchecked) + (left_unchecked ? "; " : " && ") +
             print(*t->right, static_cast<shell_level>(static_cast<int>(level) + 1));
    } else {
      text = print(n, needed);
    }
    if (level < needed) return "(" + text + ")";
    return text;
  }

  static bool has_outer_unchecked(const node& n) {
    const node* current = &n;
    while (const auto* m = std::get_if<modifier_node>(&current->value)) {
      if (modifier_as<mark_unchecked>(m->change) != nullptr) return true;
      current = m->inner.get();
    }
    return false;
  }
};

DUCTILE_INLINE std::string format_command_line(const node& n) {
  return shell_printer{}.print(n, shell_level::sequence);
}

}  // namespace detail

DUCTILE_INLINE std::string shell_quote(std::string_view word) {
  if (word.empty()) return "''";
  bool safe = true;
  for (char c : word) safe = safe && detail::is_shell_safe(c);
  if (safe) return std::string(word);
  std::string quoted = "'";
  for (char c : word) {
    if (c == '\'')
      quoted += "'\\''";
    else
      quoted += c;
  }
  quoted += '\'';
  return quoted;
}

DUCTILE_INLINE std::string to_string(const expression& e) {
  if (!e.tree()) return {};
  return detail::format_command_line(*e.tree());
}

DUCTILE_INLINE std::string signal_name(int signal) {
  static constexpr const char* names[] = {
      nullptr,     "SIGHUP",  "SIGINT",    "SIGQUIT", "SIGILL",   "SIGTRAP", "SIGABRT", "SIGBUS",
      "SIGFPE",    "SIGKILL", "SIGUSR1",   "SIGSEGV", "SIGUSR2",  "SIGPIPE", "SIGALRM", "SIGTERM",
      "SIGSTKFLT", "SIGCHLD", "SIGCONT",   "SIGSTOP", "SIGTSTP",  "SIGTTIN", "SIGTTOU", "SIGURG",
      "SIGXCPU",   "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO",   "SIGPWR",  "SIGSYS"};
  if (signal > 0 && signal < static_cast<int>(sizeof(names) / sizeof(names[0]))) return names[signal];
#ifdef SIGRTMIN
  if (signal >= SIGRTMIN && signal <= SIGRTMAX) return fmt::format("SIGRTMIN+{}", signal - SIGRTMIN);
#endif
  return fmt::format("signal {}", signal);
}

#ifdef _WIN32
// What Windows means by an exit code that is an exception or a status
// (NTSTATUS), as a crash report names it.
DUCTILE_INLINE const char* windows_status_name(std::uint32_t code) noexcept {
  switch (code) {
    case 0x80000003u: return "breakpoint";
    case 0xC0000005u: return "access violation";
    case 0xC000001Du: return "illegal instruction";
    case 0xC000008Eu: return "floating-point division by zero";
    case 0xC0000094u: return "integer division by zero";
    case 0xC0000096u: return "privileged instruction";
    case 0xC00000FDu: return "stack overflow";
    case 0xC000013Au: return "ended by Ctrl-C";
    case 0xC0000135u: return "a DLL was not found";
    case 0xC0000142u: return "a DLL failed to initialize";
    case 0xC0000374u: return "heap corruption";
    case 0xC0000409u: return "stack buffer overrun";
    default: return nullptr;
  }
}
#endif

DUCTILE_INLINE std::string detail::exit_code_text(exit_status::code_type code) {
#ifdef _WIN32
  if (code >= 0x80000000u) {
    if (const char* name = windows_status_name(code)) return fmt::format("0x{:08X} ({})", code, name);
    return fmt::format("0x{:08X}", code);
  }
#endif
  return fmt::format("{}", code);
}

DUCTILE_INLINE std::string to_string(exit_status status) {
  if (const auto code = status.code()) return "exit code " + detail::exit_code_text(*code);
  const int signal = status.signal().value_or(0);
  return fmt::format("signal {} ({}{})", signal, signal_name(signal), status.core_dumped() ? ", core dumped" : "");
}

DUCTILE_INLINE std::string to_string(const output& result) {
  return fmt::format("{}, {} bytes of stdout, {} bytes of stderr", to_string(result.status), result.stdout_bytes.size(),
                     result.stderr_bytes.size());
}

}  // namespace ductile
