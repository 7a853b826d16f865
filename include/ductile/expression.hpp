#pragma once
/// \file
/// `expression`: an immutable tree of commands, pipes, sequences and modifiers.
/// Building one does no I/O and no system call; the run methods lower it onto processes.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "caps_set.hpp"
#include "native.hpp"

namespace ductile {

class handle;
class reader_handle;
class line_range;
struct output;
namespace remote {
class host;
}
namespace cluster {
class slurm;
}

/// What a `before_spawn` hook may edit, just before one process is spawned.
struct spawn_spec {
  std::vector<std::string> argv;           ///< argv[0] is the program, looked up as `cmd` would
  std::map<std::string, std::string> env;  ///< the complete environment of the child
  std::string dir;                         ///< working directory; empty means the parent's
};

namespace detail {

// A shared, type-erased callable: what std::function does, without <functional>,
// which alone costs more to compile than everything else in this header.
template <class Signature>
class shared_function;
template <class R, class... Args>
class shared_function<R(Args...)> {
 public:
  shared_function() = default;
  template <class F, std::enable_if_t<!std::is_same_v<std::decay_t<F>, shared_function>, int> = 0>
  shared_function(F f) : impl_(std::make_shared<holder<F>>(std::move(f))) {}
  R operator()(Args... args) const { return impl_->call(std::forward<Args>(args)...); }
  explicit operator bool() const noexcept { return impl_ != nullptr; }

 private:
  struct base {
    virtual ~base() = default;
    virtual R call(Args... args) = 0;
  };
  template <class F>
  struct holder final : base {
    explicit holder(F fn) : f(std::move(fn)) {}
    R call(Args... args) override { return f(std::forward<Args>(args)...); }
    F f;
  };
  std::shared_ptr<base> impl_;
};

using spawn_hook_function = shared_function<void(spawn_spec&)>;
using line_function = shared_function<void(std::string_view)>;

struct node;
using argument_list = std::vector<std::string>;

template <class T>
struct dependent_false : std::false_type {};

template <class T>
using remove_cvref_t = std::remove_cv_t<std::remove_reference_t<T>>;

// std::filesystem::path is recognised by shape so that this header need not
// include <filesystem>, which costs more to compile than everything else here.
template <class T, class = void>
struct is_path_like : std::false_type {};
template <class T>
struct is_path_like<
    T, std::void_t<decltype(std::declval<const T&>().native()), decltype(std::declval<const T&>().filename()),
                   decltype(std::declval<const T&>().is_relative())>> : std::true_type {};

// A path as the library speaks it: UTF-8. Windows keeps paths in UTF-16,
// so there they are converted; elsewhere the bytes pass unchanged.
template <class Path>
std::string path_text(const Path& path) {
#ifdef _WIN32
  const auto utf8 = path.u8string();  // std::string before C++20, std::u8string since
  return std::string(utf8.begin(), utf8.end());
#else
  return path.native();
#endif
}

template <class T, class = void>
struct is_range : std::false_type {};
template <class T>
struct is_range<
    T, std::void_t<decltype(std::begin(std::declval<const T&>())), decltype(std::end(std::declval<const T&>()))>>
    : std::true_type {};

template <class T>
constexpr bool is_character_v =
    std::is_same_v<T, char> || std::is_same_v<T, signed char> || std::is_same_v<T, unsigned char> ||
    std::is_same_v<T, wchar_t> || std::is_same_v<T, char16_t> || std::is_same_v<T, char32_t>;

void append_signed(argument_list& out, long long value);
void append_unsigned(argument_list& out, unsigned long long value);
void append_floating(argument_list& out, double value);
void append_floating(argument_list& out, long double value);

template <class T>
void append_argument(argument_list& out, const T& value) {
  using U = remove_cvref_t<T>;
  if constexpr (is_path_like<U>::value) {
    out.emplace_back(path_text(value));
  } else if constexpr (std::is_convertible_v<const T&, std::string_view>) {
    out.emplace_back(std::string_view(value));
  } else if constexpr (std::is_same_v<U, bool>) {
    static_assert(dependent_false<U>::value,
                  "cmd(): a bool is not an argument; pass the text you mean, such as \"true\" or \"1\"");
  } else if constexpr (is_character_v<U>) {
    static_assert(dependent_false<U>::value,
                  "cmd(): a single character is ambiguous; pass a string such as std::string(1, c)");
  } else if constexpr (std::is_integral_v<U> && std::is_signed_v<U>) {
    append_signed(out, static_cast<long long>(value));
  } else if constexpr (std::is_integral_v<U>) {
    append_unsigned(out, static_cast<unsigned long long>(value));
  } else if constexpr (std::is_same_v<U, long double>) {
    append_floating(out, value);
  } else if constexpr (std::is_floating_point_v<U>) {
    append_floating(out, static_cast<double>(value));
  } else if constexpr (is_range<U>::value) {
    for (const auto& element : value) append_argument(out, element);
  } else {
    static_assert(dependent_false<U>::value, "cmd(): arguments must be strings, paths, numbers, or ranges of those");
  }
}

}  // namespace detail

/// A path given to a modifier: any string-like value or a std::filesystem::path.
class path_arg {
 public:
  path_arg(const char* path) : value_(path) {}
  path_arg(std::string path) : value_(std::move(path)) {}
  path_arg(std::string_view path) : value_(path) {}
  template <class Path, std::enable_if_t<detail::is_path_like<Path>::value, int> = 0>
  path_arg(const Path& path) : value_(detail::path_text(path)) {}
  const std::string& str() const noexcept { return value_; }

 private:
  std::string value_;
};

/// The window of a pseudo-terminal made by pty().
struct pty_size {
  unsigned short rows = 24;
  unsigned short cols = 80;
};

/// Where an own_cgroup() subtree's cgroup is made, and its limits. A limit needs
/// its controller enabled for the new cgroup (in the parent's cgroup.subtree_control).
struct cgroup_options {
  std::string parent;                       ///< a cgroup v2 directory; empty: below the host's own cgroup
  std::optional<std::uint64_t> memory_max;  ///< bytes (memory.max)
  std::optional<std::uint64_t> pids_max;    ///< pids.max
  std::optional<double> cpu_max;            ///< CPUs, e.g. 1.5 (cpu.max)
};

/// How start_detached() runs a daemon.
struct detach_options {
  /// If not empty: created by the daemon, locked (flock) for its whole life and
  /// holding its pid, written after the user switch. Already locked means already running.
  std::string pid_file;
};

/// An immutable expression. Copies share the tree; sharing between threads is safe.
/// Modifiers return a new expression wrapping this one; the innermost modifier wins.
class expression {
 public:
  /// `*this | right`: this stdout feeds `right`'s stdin; both run at once.
  expression pipe(const expression& right) const;
  /// Runs `right` after this finishes, unless this fails checked (like `&&`).
  expression then(const expression& right) const;

  /// Feeds these bytes to stdin, then closes it. Re-fed on every run.
  template <class Bytes>
  expression stdin_bytes(const Bytes& bytes) const {
    if constexpr (std::is_convertible_v<const Bytes&, std::string_view>) {
      return stdin_bytes_text(std::string(std::string_view(bytes)));
    } else {
      static_assert(sizeof(*std::data(bytes)) == 1, "stdin_bytes(): pass a string or a container of bytes");
      return stdin_bytes_text(std::string(reinterpret_cast<const char*>(std::data(bytes)), std::size(bytes)));
    }
  }
  expression stdin_path(const path_arg& path) const;
  /// Reads stdin from `fd`, which is duplicated now: the caller keeps and may close its own.
  expression stdin_file(native_handle_type fd) const;
  expression stdin_null() const;

  expression stdout_path(const path_arg& path) const;
  expression stdout_append(const path_arg& path) const;
  /// Writes stdout to `fd`, which is duplicated now: the caller keeps and may close its own.
  expression stdout_file(native_handle_type fd) const;
  expression stdout_null() const;
  expression stdout_capture() const;
  /// `1>&2`, resolved against what stderr means at this point of the tree.
  expression stdout_to_stderr() const;
  /// Captures stdout and also forwards it, as it arrives, to where it would have gone.
  expression stdout_tee() const;

  expression stderr_path(const path_arg& path) const;
  expression stderr_append(const path_arg& path) const;
  expression stderr_file(native_handle_type fd) const;
  expression stderr_null() const;
  expression stderr_capture() const;
  /// `2>&1`, resolved against what stdout means at this point of the tree.
  expression stderr_to_stdout() const;
  expression stderr_tee() const;
  expression stdout_stderr_swap() const;
  /// Captures stdout and stderr, each into its own field of `output`, and both
  /// into `output::combined_bytes` in the order their bytes were read.
  expression combined_capture() const;

  /// A redirect target: each line of stdout (without `\n` or `\r\n`) is passed
  /// to `fn(std::string_view)` as it arrives, a last line without newline at end
  /// of file. `fn` runs on the thread that drives the run, with no lock held; an
  /// exception from it kills the run and is rethrown from run() or wait().
  template <class Function>
  expression stdout_lines(Function fn) const {
    static_assert(std::is_invocable_v<Function&, std::string_view>,
                  "stdout_lines(): the callback must be callable as fn(std::string_view)");
    return lines_target(1, detail::line_function(std::move(fn)));
  }
  /// The same for stderr.
  template <class Function>
  expression stderr_lines(Function fn) const {
    static_assert(std::is_invocable_v<Function&, std::string_view>,
                  "stderr_lines(): the callback must be callable as fn(std::string_view)");
    return lines_target(2, detail::line_function(std::move(fn)));
  }
  /// The subtree's stdin, stdout and stderr that are not redirected inside it
  /// become one new pseudo-terminal, of the parent's terminal's size (else
  /// 24x80); its first process leads a new session with it as controlling
  /// terminal. What the terminal prints goes where stdout would have gone, byte
  /// for byte (`\r\n` line ends); what stdin would have read (a pipe, a file,
  /// stdin_bytes(), stdin_pipe()) is typed into it, then end of file (^D).
  expression pty() const;
  expression pty(pty_size size) const;
  /// stdin becomes a pipe the caller writes through handle::input() or
  /// reader_handle::input(). run() and read() close it at once.
  expression stdin_pipe() const;
  /// The children get a duplicate of `parent_fd` as their descriptor `child_fd`
  /// (3 or above). `parent_fd` is duplicated now: the caller keeps its own.
  expression pass_fd(int child_fd, int parent_fd) const;

  /// Working directory of the children. Relative program paths containing `/`
  /// are resolved against the parent's directory first.
  expression dir(const path_arg& path) const;
  expression env(std::string_view name, std::string_view value) const;
  expression env_remove(std::string_view name) const;
  /// Replaces the whole environment with `variables` (a map of name to value).
  template <class Map>
  expression full_env(const Map& variables) const {
    std::map<std::string, std::string> copy;
    for (const auto& [name, value] : variables) copy[std::string(name)] = std::string(value);
    return full_env_map(std::move(copy));
  }
  /// A non-zero status produced inside stops being an error.
  expression unchecked() const;
  /// Exit codes in the list are success for this subtree (`grep`'s and `diff`'s 1).
  /// 0 is success only if listed or if the list is empty; signals stay errors.
  expression ok_codes(std::initializer_list<int> codes) const;
  expression ok_codes(const std::vector<int>& codes) const;
  /// If the subtree still runs after `duration`, its processes get SIGTERM, then
  /// SIGKILL after `grace`, and it ends with timeout_error (a status_error).
  /// The timer lives in the event loop: no thread, signal or helper process.
  expression timeout(std::chrono::nanoseconds duration, std::chrono::nanoseconds grace = std::chrono::seconds(1)) const;
  /// The subtree's processes share a new process group, so kill(), send_signal()
  /// and timeouts also reach grandchildren that stay in it. A terminal's Ctrl-C
  /// no longer reaches that group.
  expression new_process_group() const;
  /// The children get SIGKILL when the process that runs them dies
  /// (PR_SET_PDEATHSIG, Linux only). The kernel ties it to the thread that
  /// spawned: the caller for run() and read(), the background thread (which
  /// lives as long as the process) for started expressions.
  expression kill_on_parent_exit() const;
  /// The subtree runs in a new cgroup v2 (Linux), below the host's own cgroup, the
  /// enclosing own_cgroup()'s, or `options.parent`, entered at clone where the kernel
  /// allows (CLONE_INTO_CGROUP) and otherwise before exec. kill(), timeouts and the
  /// end of the subtree kill every process in it, daemons that left the process
  /// group included (cgroup.kill); the cgroup is removed when the run ends and
  /// output::cgroup says what it used. A limit whose controller is not enabled, or
  /// no writable cgroup v2 hierarchy, is a spawn_error naming what is missing.
  expression own_cgroup() const;
  expression own_cgroup(cgroup_options options) const;
  /// Runs the children as this user: its uid, its primary group and its
  /// supplementary groups (never the parent's). Names are resolved in the parent
  /// before anything is spawned. A uid without a passwd entry needs group().
  expression user(std::string_view name) const;
  expression user(user_id uid) const;
  /// The children's primary group (and only group, unless groups() adds more).
  expression group(std::string_view name) const;
  expression group(group_id gid) const;
  /// The children's supplementary groups, replacing the user's; an empty list means none.
  expression groups(const std::vector<std::string>& names) const;
  expression groups(const std::vector<group_id>& ids) const;
  /// Keeps exactly these capabilities across the user switch: effective,
  /// permitted, inheritable and ambient, so the program has them after exec.
  /// The parent must have each of them.
  expression keep_caps(caps::set kept) const;
  /// The same, from libcap-style names: "cap_net_bind_service,cap_kill".
  expression keep_caps(std::string_view names) const;
  /// The children's bounding set becomes exactly `allowed`; needs cap_setpcap.
  expression bounding_caps(caps::set allowed) const;
  /// Sets no_new_privs: exec can no longer grant privileges (set-uid, file capabilities).
  expression no_new_privs() const;
  /// The children's file mode creation mask.
  expression umask(mode_t mask) const;
  /// The children start a new session (setsid), without a controlling terminal.
  expression new_session() const;
  /// `hook` runs in the parent just before each process of the subtree is spawned,
  /// outer hooks first. It may run on the shared background thread for a started
  /// expression. An exception aborts the start and propagates.
  template <class Hook>
  expression before_spawn(Hook hook) const {
    static_assert(std::is_invocable_v<Hook&, spawn_spec&>,
                  "before_spawn(): the hook must be callable as hook(spawn_spec&)");
    return before_spawn_hook(detail::spawn_hook_function(std::move(hook)));
  }

  /// Runs this subtree on another machine through the system's `ssh` (see
  /// <ductile/remote.hpp> and docs/remote.md): one local process whose
  /// stdin, stdout and stderr are the subtree's. Throws std::invalid_argument
  /// for a modifier inside that cannot cross (credentials, before_spawn,
  /// pass_fd, pty, own_cgroup, ...).
  expression on(const remote::host& where) const;
  /// Runs this subtree as one Slurm job step through `srun` (see
  /// <ductile/cluster.hpp> and docs/cluster.md), with the same POSIX sh form
  /// as on(host): pipes, `then`, dir, env, unchecked, ok_codes and file
  /// redirects happen on the allocated node. Refuses what on(host) refuses.
  expression on(const cluster::slurm& where) const;

  /// Runs to completion on the calling thread. Uncaptured streams are inherited.
  /// Throws status_error on a checked failure and spawn_error if anything cannot start.
  output run() const;
  /// Captures stdout, runs to completion, and returns it without trailing `\n`/`\r`.
  std::string read() const;
  /// Starts and returns at once; the shared background thread drives it.
  [[nodiscard]] handle start() const;
  /// Starts with stdout going into a pipe the caller reads.
  [[nodiscard]] reader_handle reader() const;
  /// Starts with stderr going into a pipe the caller reads; stdout keeps its redirect.
  [[nodiscard]] reader_handle stderr_reader() const;
  /// A lazy input range over stdout's lines, without their `\n` or `\r\n`.
  [[nodiscard]] line_range lines() const;
  /// Starts a daemon: double fork, new session, `/` as directory and umask 027
  /// unless dir()/umask() say otherwise, stdio on /dev/null unless redirected.
  /// Returns its pid once it has exec'd; any failure on the way (pid file locked,
  /// unknown user, exec failure) is a spawn_error here. The expression must be
  /// one command. The daemon is not our child: init reaps it.
  process_id start_detached(const struct detach_options& options) const;
  process_id start_detached() const;

  /// The tree; for the library's own stages.
  const std::shared_ptr<const detail::node>& tree() const noexcept { return node_; }
  explicit expression(std::shared_ptr<const detail::node> node) noexcept : node_(std::move(node)) {}

 private:
  expression stdin_bytes_text(std::string bytes) const;
  expression full_env_map(std::map<std::string, std::string> variables) const;
  expression before_spawn_hook(detail::spawn_hook_function hook) const;
  expression lines_target(int stream, detail::line_function fn) const;
  std::shared_ptr<const detail::node> node_;
};

namespace detail {
expression make_command(argument_list argv, bool program_is_path);
}

/// One process. A string-like `program` is looked up in the child's PATH; a
/// std::filesystem::path is used as a path (`./` prepended when relative).
/// Throws std::invalid_argument for an empty program or a NUL byte anywhere.
template <class Program, class... Args>
expression cmd(const Program& program, const Args&... args) {
  detail::argument_list argv;
  argv.reserve(1 + sizeof...(Args));
  constexpr bool program_is_path = detail::is_path_like<detail::remove_cvref_t<Program>>::value;
  if constexpr (program_is_path) {
    argv.emplace_back(detail::path_text(program));
  } else {
    static_assert(std::is_convertible_v<const Program&, std::string_view>,
                  "cmd(): the program must be a string or a std::filesystem::path");
    argv.emplace_back(std::string_view(program));
  }
  (detail::append_argument(argv, args), ...);
  return detail::make_command(std::move(argv), program_is_path);
}

/// The absolute path `cmd(name)` would execute, searched in this process's
/// PATH as a child would search it; nothing if no executable file is found.
std::optional<std::string> which(std::string_view name);
/// The same, for `cmd(name)` inside `context`: its `env`, `full_env` and `dir`
/// modifiers (the outermost chain) decide the PATH and where relative entries point.
std::optional<std::string> which(std::string_view name, const expression& context);

/// `/bin/sh -c script`. For trusted text only: the shell interprets everything in it.
expression sh(std::string_view script);

/// `left | right`: left's stdout feeds right's stdin.
expression operator|(const expression& left, const expression& right);

template <class T, std::enable_if_t<!std::is_same_v<detail::remove_cvref_t<T>, expression>, int> = 0>
expression operator|(const expression&, const T&) {
  static_assert(detail::dependent_false<T>::value,
                "the right side of | must be an expression: wrap a program in cmd(...); "
                "to process output lines, write expr.lines() | view");
  return expression(nullptr);
}

template <class T, std::enable_if_t<!std::is_same_v<detail::remove_cvref_t<T>, expression>, int> = 0>
expression operator|(const T&, const expression&) {
  static_assert(detail::dependent_false<T>::value,
                "the left side of | must be an expression: wrap a program in cmd(...); "
                "to feed text to stdin, write expr.stdin_bytes(text)");
  return expression(nullptr);
}

template <class T>
expression operator&&(const expression&, const T&) {
  static_assert(detail::dependent_false<T>::value, "expressions do not combine with &&: write a.then(b)");
  return expression(nullptr);
}

}  // namespace ductile
