// The remote form of a subtree: a POSIX sh script that runs it on the far
// side with the library's rules. Each part leaves its result in three shell
// variables, c (the code), f (1: failed) and t (1: timed out), the way a job
// passes its result up the job tree (run/job_tree.cpp). The two sides of a
// pipe run in subshells, so they hand their results over in files in the
// run's directory, "$d".

#include <fmt/format.h>

#include <chrono>
#include <ductile/format.hpp>
#include <map>
#include <optional>
#include <stdexcept>

#include "remote/plan.hpp"

namespace ductile::detail {

// Environment changes since the remote login's own environment; the
// innermost setting of each name wins, as in lowering.
struct remote_context {
  std::optional<std::string> dir;
  bool cleared = false;                                   // full_env(): start from nothing
  std::map<std::string, std::optional<std::string>> env;  // nullopt: removed
};

// The helpers every script defines. Each command leaves `c` (its code, as
// sh reports it: 128 + N for a death by signal N), `f` (1: a failure), `t`
// (1: a timeout ended it) and `s` (the signal that killed it, or 0).
//
// ductile_run FILE COMMAND...: runs COMMAND. sh reports a death by signal N
// exactly as an exit with 128 + N, but a pipe forgives only a death by
// SIGPIPE and ok_codes() never accepts a signal. Where the far side has
// perl, it runs COMMAND and writes the signal that killed it into FILE,
// which ductile_ended reads into `s`. Without perl, an exit with 141 counts
// as SIGPIPE's and no other code as a signal's (docs/remote.md).
//
// ductile_pipe L R: the result of a pipe from its sides' files, with
// pipe_result()'s rules (a writer killed by SIGPIPE is not at fault). A side
// that left no file was killed.
inline constexpr const char* remote_pipe_function =
    "ductile_perl=; command -v perl >/dev/null 2>&1 && ductile_perl=1\n"
    "ductile_run() { if [ -n \"$ductile_perl\" ]; then\n"
    "perl -e 'my $f = shift; system { $ARGV[0] } @ARGV; my $w = $?; exit 127 if $w == -1; my $s = $w & 127;"
    " if ($s) { if (open(my $o, \">\", $f)) { print {$o} \"$s\\n\"; close $o } exit 128 + $s } exit($w >> 8)'"
    " \"$@\"\n"
    "else shift; \"$@\"; fi; }\n"
    "ductile_ended() { s=0; if [ -s \"$d/s$1\" ]; then read s <\"$d/s$1\"; rm -f \"$d/s$1\";"
    " elif [ -z \"$ductile_perl\" ] && [ \"$c\" = 141 ]; then s=13; fi; }\n"
    "ductile_pipe() { read lc lf lt ls <\"$d/r$1\" || { lc=143 lf=1 lt=0 ls=0; }\n"
    "read c f t s <\"$d/r$2\" || { c=143 f=1 t=0 s=0; }\n"
    "[ \"$ls\" = 13 ] && { lc=0 lf=0 lt=0 ls=0; }\n"
    "[ \"$f\" = 1 ] && return 0\n"
    "[ \"$lf\" = 1 ] && { c=$lc f=$lf t=$lt s=$ls; return 0; }\n"
    "[ \"$c\" != 0 ] && return 0\n"
    "c=$lc f=$lf t=$lt s=$ls; }\n";

// GNU timeout's durations: seconds with up to nine decimals.
DUCTILE_INLINE std::string remote_seconds(std::chrono::nanoseconds d) {
  const auto count = d.count() < 1000000 ? 1000000 : d.count();  // at least 1 ms: 0 would mean "never"
  return fmt::format("{}.{:09d}", count / 1000000000, count % 1000000000);
}

DUCTILE_INLINE const char* remote_modifier_name(const modifier& change) {
  return visit_modifier(overloaded{
                            [](const redirect& r) -> const char* {
                              switch (r.kind) {
                                case redirect_kind::descriptor:
                                  return "a descriptor redirection (stdin_file/stdout_file/stderr_file)";
                                case redirect_kind::capture: return "a capture";
                                case redirect_kind::tee: return "a tee";
                                case redirect_kind::lines: return "a line callback";
                                case redirect_kind::caller_pipe: return "stdin_pipe()";
                                default: return "a redirection";
                              }
                            },
                            [](const feed_bytes&) { return "stdin_bytes()"; },
                            [](const combine_outputs&) { return "combined_capture()"; },
                            [](const pass_descriptor&) { return "pass_fd()"; },
                            [](const use_terminal&) { return "pty()"; },
                            [](const set_dir&) { return "dir()"; },
                            [](const set_env&) { return "env()"; },
                            [](const remove_env&) { return "env_remove()"; },
                            [](const replace_env&) { return "full_env()"; },
                            [](const run_as_user&) { return "user()"; },
                            [](const run_as_group&) { return "group()"; },
                            [](const supplementary_groups&) { return "groups()"; },
                            [](const keep_capabilities&) { return "keep_caps()"; },
                            [](const bounding_capabilities&) { return "bounding_caps()"; },
                            [](const forbid_new_privileges&) { return "no_new_privs()"; },
                            [](const file_mode_mask&) { return "umask()"; },
                            [](const own_session&) { return "new_session()"; },
                            [](const spawn_hook&) { return "before_spawn()"; },
                            [](const own_process_group&) { return "new_process_group()"; },
                            [](const die_with_parent&) { return "kill_on_parent_exit()"; },
                            [](const mark_unchecked&) { return "unchecked()"; },
                            [](const time_limit&) { return "timeout()"; },
                            [](const accept_codes&) { return "ok_codes()"; },
                            [](const contain_in_cgroup&) { return "own_cgroup()"; },
                            [](const run_remotely&) { return "on()"; },
                        },
                        change);
}

[[noreturn]] DUCTILE_INLINE void refuse_remote(const node& subtree, const modifier& change, const char* why) {
  throw std::invalid_argument(
      fmt::format("on(): {} cannot run on another machine ({}), in {}", remote_modifier_name(change), why,
                  to_string(expression(std::shared_ptr<const node>(std::shared_ptr<const node>(), &subtree)))));
}

// The shell redirection for a redirect that has one, else nothing.
DUCTILE_INLINE std::optional<std::string> shell_redirection(const redirect& r) {
  const bool err = r.stream == stdio::err;
  switch (r.kind) {
    case redirect_kind::read_path: return "<" + shell_quote(r.path);
    case redirect_kind::write_path: return (err ? "2>" : ">") + shell_quote(r.path);
    case redirect_kind::append_path: return (err ? "2>>" : ">>") + shell_quote(r.path);
    case redirect_kind::null: return std::string(r.stream == stdio::in ? "<" : err ? "2>" : ">") + "/dev/null";
    case redirect_kind::other_stream: return std::string(err ? "2>&1" : ">&2");
    case redirect_kind::swap: return std::string("3>&1 1>&2 2>&3 3>&-");
    default: return std::nullopt;
  }
}

class script_writer {
 public:
  std::string write(const node& n, const remote_context& ctx) {
    if (const auto* m = std::get_if<modifier_node>(&n.value)) return write_modifier(n, *m, ctx);
    if (const auto* command = std::get_if<command_node>(&n.value)) return write_command(*command, ctx);
    if (const auto* p = std::get_if<pipe_node>(&n.value)) {
      const int left = next_result_++;
      const int right = next_result_++;
      return fmt::format(
          "{{ {}\necho \"$c $f $t $s\" >\"$d/r{}\"; }} | {{ {}\necho \"$c $f $t $s\" >\"$d/r{}\"; }}\n"
          "ductile_pipe {} {}",
          write(*p->left, ctx), left, write(*p->right, ctx), right, left, right);
    }
    const auto& t = std::get<then_node>(n.value);
    // `k` is set once a TERM, INT or HUP came: nothing new starts then.
    return fmt::format("{}\nif [ \"$f\" = 0 ] && [ -z \"$k\" ]; then {}\nfi", write(*t.left, ctx),
                       write(*t.right, ctx));
  }

 private:
  std::string write_modifier(const node& n, const modifier_node& m, const remote_context& outer) {
    remote_context ctx = outer;
    return visit_modifier(
        overloaded{
            [&](const redirect& r) -> std::string {
              const auto shown = shell_redirection(r);
              if (!shown) refuse_remote(n, m.change, "it needs this process; apply it outside on()");
              return fmt::format("{{ {}\n}} {}", write(*m.inner, ctx), *shown);
            },
            [&](const set_dir& d) -> std::string {
              ctx.dir = d.path;
              return write(*m.inner, ctx);
            },
            [&](const set_env& e) -> std::string {
              ctx.env[e.name] = e.value;
              return write(*m.inner, ctx);
            },
            [&](const remove_env& e) -> std::string {
              ctx.env[e.name] = std::nullopt;
              return write(*m.inner, ctx);
            },
            [&](const replace_env& full) -> std::string {
              ctx.cleared = true;
              ctx.env.clear();
              for (const auto& [name, value] : *full.variables) ctx.env[name] = value;
              return write(*m.inner, ctx);
            },
            [&](const mark_unchecked&) -> std::string { return write(*m.inner, ctx) + "\nf=0"; },
            [&](const accept_codes& accepted) -> std::string {
              if (accepted.codes.empty()) return write(*m.inner, ctx);
              std::string pattern;
              for (int code : accepted.codes) pattern += (pattern.empty() ? "" : "|") + std::to_string(code);
              // Codes only: a death by signal stays a failure, as here.
              return fmt::format(
                  "{}\nif [ \"$t\" = 0 ] && [ \"$s\" = 0 ]; then case $c in {}) f=0 ;; 0) f=1 ;; esac; fi",
                  write(*m.inner, ctx), pattern);
            },
            [&](const time_limit& limit) -> std::string { return write_timeout(*m.inner, limit, ctx); },
            [&](const auto&) -> std::string {
              refuse_remote(n, m.change, "it has no remote form; apply it outside on() or on the far side");
            },
        },
        m.change);
  }

  std::string write_command(const command_node& command, const remote_context& ctx) {
    // `env` runs the program as execvp would: no builtin, function or
    // keyword of the remote shell can take its place. ductile_run tells
    // how it ended, through a file of its own (pipe sides run at once).
    const int ended = next_result_++;
    std::string line = fmt::format("ductile_run \"$d/s{}\" env", ended);
    if (ctx.cleared) line += " -i";
    for (const auto& [name, value] : ctx.env)
      if (!value && !ctx.cleared) line += " -u " + shell_quote(name);
    line += " --";
    for (const auto& [name, value] : ctx.env)
      if (value) line += " " + shell_quote(name + "=" + *value);
    for (const auto& arg : command.argv) line += " " + shell_quote(arg);
    // A relative operand starts with ./, so that cd neither reads "-" as
    // $OLDPWD (printing it) nor searches CDPATH, as chdir() would not.
    if (ctx.dir)
      line = fmt::format("(cd -- {} && {})", shell_quote(ctx.dir->front() == '/' ? *ctx.dir : "./" + *ctx.dir), line);
    return line + fmt::format("\nc=$? t=0; ductile_ended {}; if [ \"$c\" = 0 ]; then f=0; else f=1; fi", ended);
  }

  // GNU timeout runs the subtree as a script of its own in a new process
  // group; that group joins the run's list so that a kill reaches it.
  std::string write_timeout(const node& inner, const time_limit& limit, const remote_context& ctx) {
    const int result = next_result_++;
    const std::string body = fmt::format(
        "d=$1; k=; trap 'k=1' TERM INT HUP; echo \"$PPID\" >>\"$d/groups\"\n{}{}\n"
        "echo \"$c $f $t $s\" >\"$d/r{}\"",
        remote_pipe_function, write(inner, ctx), result);
    return fmt::format(
        "timeout -k {} {} sh -c {} sh \"$d\"\n"
        "w=$?; read c f t s <\"$d/r{}\" || {{ c=$w f=1 t=0 s=0; }}\n"
        "case $w in 124|137) f=1 t=1 ;; esac",
        remote_seconds(limit.grace), remote_seconds(limit.duration), shell_quote(body), result);
  }

  int next_result_ = 0;
};

DUCTILE_INLINE std::string remote_script(const node& subtree) {
  const std::string body = script_writer{}.write(subtree, remote_context{});
  // The run's directory holds the pids a kill reaches and the pipes'
  // results. If it exists already, a kill came before the run started: the
  // killer left it as a sign, and the run ends at once.
  return fmt::format(
      "d=\"${{TMPDIR:-/tmp}}/ductile-$1\"\n"
      "mkdir -m 700 \"$d\" 2>/dev/null || {{ rmdir \"$d\" 2>/dev/null; exit 143; }}\n"
      "echo \"$$\" >\"$d/pid\"\n"
      "k=; trap 'k=1' TERM INT HUP\n"
      "{}{}\n"
      "rm -rf \"$d\"\n"
      "[ \"$f\" = 0 ] && exit 0\n"
      "[ \"$c\" = 0 ] && exit 1\n"
      "exit \"$c\"\n",
      remote_pipe_function, body);
}

}  // namespace ductile::detail
