// The ssh side of a remote run: the command line, the shared connections in
// a private directory, and the helper commands that signal the far side.

#include "remote/session.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdlib>
#include <ductile/format.hpp>
#include <mutex>
#include <random>
#include <set>

#include "model/failure.hpp"
#include "os/helper_process.hpp"
#include "os/system_calls.hpp"

namespace ductile::detail {

// The killer: waits briefly for the run to have written its pid, then
// signals its process groups (the run's and each timeout's). If the run's
// directory is not there, it makes it, so that a run starting late ends at
// once, and removes it again a little later.
inline constexpr const char* remote_killer_script =
    "d=\"${TMPDIR:-/tmp}/ductile-$1\"\n"
    "if mkdir \"$d\" 2>/dev/null; then sleep 5; rmdir \"$d\" 2>/dev/null; exit 0; fi\n"
    "i=0; while [ ! -s \"$d/pid\" ] && [ $i -lt 50 ]; do sleep 0.02 2>/dev/null || sleep 1; i=$((i+1)); done\n"
    "for g in $(cat \"$d/pid\" \"$d/groups\" 2>/dev/null); do\n"
    "  kill -s \"$2\" -- \"-$g\" 2>/dev/null || kill -s \"$2\" \"$g\" 2>/dev/null\n"
    "done\n"
    "[ \"$2\" = KILL ] && rm -rf \"$d\"\n"
    "exit 0\n";

// The remote command is one argument of the local ssh and, on the far side,
// of the remote shell: Linux refuses a single argument over 128 KiB. A script
// longer than this is sent ahead instead.
inline constexpr std::size_t longest_remote_command = 100 * 1024;

// Receives a script sent ahead on stdin into a directory of the run's own
// (private: 0700, named by the run's random token), and the command that
// reads it back, removes it and runs it in its own shell, where positional
// parameters and traps are what `sh -c SCRIPT ductile TOKEN` would have.
inline constexpr const char* remote_script_receiver =
    "umask 077; d=\"${TMPDIR:-/tmp}/ductile-$1.script\"; mkdir \"$d\" && cat >\"$d/s\"\n";
inline constexpr const char* remote_sent_script_runner =
    "d=\"${TMPDIR:-/tmp}/ductile-$1.script\"\n"
    "ductile_script=$(cat \"$d/s\") || { echo \"ductile: the script sent ahead is not in $d\" >&2; exit 126; }\n"
    "rm -rf \"$d\"; eval \"$ductile_script\"\n";

// The process's directory for ssh: control sockets and logs, 0700, removed
// at exit after the shared connections are closed. Never destroyed, so that
// the exit handler can use it whatever else is gone by then.
class ssh_directory {
 public:
  static ssh_directory& instance() {
    static ssh_directory* made = new ssh_directory();
    return *made;
  }

  // Throws spawn_error naming `command` if the directory cannot be made.
  std::string path(const std::string& command) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!path_.empty() && owner_ == ::getpid()) return path_;
    const char* tmp = std::getenv("TMPDIR");
    // A control socket's path must fit in sockaddr_un (about 100 bytes).
    std::string base = tmp != nullptr && *tmp != '\0' && std::string(tmp).size() < 40 ? tmp : "/tmp";
    std::string pattern = base + "/ductile-ssh-XXXXXX";
#ifdef _WIN32
    // No ssh multiplexing (its control sockets are Unix sockets) and no sh on
    // this side to speak to the far one.
    throw_spawn_error(command, "ssh", "run on another host", sys::not_supported());
#endif
    if (const auto error = sys::make_private_directory(pattern))
      throw_spawn_error(command, "ssh", fmt::format("make a directory for ssh in {}", base).c_str(), error);
    path_ = pattern;
    owner_ = ::getpid();
    if (!exit_handler_registered_) {
      exit_handler_registered_ = true;
      std::atexit([] { instance().close_all(); });
    }
    return path_;
  }

  // A shared connection to close at exit: ssh's argv up to the host.
  void remember_master(const std::vector<std::string>& prefix) {
    std::lock_guard<std::mutex> lock(mutex_);
    masters_.insert(prefix);
  }

 private:
  // Only the process that made the directory cleans up: a forked child
  // that exits must not close its parent's connections.
  void close_all() noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    if (path_.empty() || owner_ != ::getpid()) return;
    for (const auto& prefix : masters_) {
      std::vector<const char*> argv;
      for (std::size_t i = 0; i + 2 < prefix.size(); ++i) argv.push_back(prefix[i].c_str());
      for (const char* word : {"-O", "exit", "--"}) argv.push_back(word);
      argv.push_back(prefix.back().c_str());
      argv.push_back(nullptr);
      (void)sys::run_helper(argv);
    }
    sys::remove_flat_directory(path_);
    path_.clear();
  }

  std::mutex mutex_;
  std::string path_;
  pid_t owner_ = 0;
  bool exit_handler_registered_ = false;
  std::set<std::vector<std::string>> masters_;
};

DUCTILE_INLINE std::string new_remote_token() {
  static std::mutex mutex;
  static std::random_device source;
  std::lock_guard<std::mutex> lock(mutex);
  return fmt::format("{:08x}{:08x}{:08x}{:08x}", source(), source(), source(), source());
}

// kill -s takes names without the SIG prefix; signals without a name are not sent.
DUCTILE_INLINE std::string remote_signal_name(int signal) {
  const std::string name = signal_name(signal);
  if (name.rfind("SIG", 0) != 0 || name.find('+') != std::string::npos) return {};
  return name.substr(3);
}

DUCTILE_INLINE void ssh_session::signal(int signal) const noexcept {
  try {
    const std::string name = remote_signal_name(signal);
    if (name.empty()) return;
    const std::string command = "exec sh -c " + shell_quote(remote_killer_script) + " ductile " + token + " " + name;
    // sh starts ssh in the background and returns: nobody waits for the far side.
    std::vector<const char*> argv{"sh", "-c", "\"$@\" &", "sh"};
    for (const auto& word : ssh_prefix) argv.push_back(word.c_str());
    argv.push_back(command.c_str());
    argv.push_back(nullptr);
    (void)sys::run_helper(argv);
  } catch (...) {
  }
}

DUCTILE_INLINE ssh_session::~ssh_session() {
  if (!log_path.empty()) ::unlink(log_path.c_str());
}

DUCTILE_INLINE std::string ssh_session::take_log() const noexcept {
  std::string text;
  try {
    unique_fd fd;
    if (!sys::open_file(log_path.c_str(), O_RDONLY, fd)) {
      char buffer[4096];
      std::size_t got = 0;
      while (!sys::read_some(fd.get(), buffer, sizeof buffer, got) && got > 0 && text.size() < 65536)
        text.append(buffer, got);
    }
    ::unlink(log_path.c_str());
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  } catch (...) {
  }
  return text;
}

DUCTILE_INLINE far_side_report ssh_session::ended(const std::string& command, const exit_status& status,
                                                  bool /*signalled*/) const {
  far_side_report report;
  const std::string message = take_log();
  if (message.empty() || status.code() != 255) return report;
  try {
    throw_spawn_error(command, "ssh", fmt::format("ssh to {} failed: {}", label, message), std::error_code());
  } catch (...) {
    report.failure = std::current_exception();
  }
  return report;
}

DUCTILE_INLINE std::shared_ptr<const ssh_session> open_ssh_session(const remote_plan& plan, const remote::host& where,
                                                                   argument_list& argv) {
  const remote::ssh_options& o = where.options();
  auto session = std::make_shared<ssh_session>();
  session->label = where.label();
  session->token = new_remote_token();
  const std::string directory = ssh_directory::instance().path("ssh " + session->label);
  session->log_path = directory + "/log-" + session->token;

  auto& prefix = session->ssh_prefix;
  prefix.push_back("ssh");
  // ssh keeps the first value it is given, so the caller's options come first.
  for (const auto& option : o.options) {
    prefix.push_back("-o");
    prefix.push_back(option);
  }
  for (const std::string& option : {std::string("BatchMode=yes"),
                                    fmt::format("ConnectTimeout={}", std::max<long long>(1, o.connect_timeout.count())),
                                    std::string("LogLevel=ERROR")}) {
    prefix.push_back("-o");
    prefix.push_back(option);
  }
  if (o.port != 22) {
    prefix.push_back("-p");
    prefix.push_back(std::to_string(o.port));
  }
  if (!o.user.empty()) {
    prefix.push_back("-l");
    prefix.push_back(o.user);
  }
  if (!o.identity_file.empty()) {
    prefix.push_back("-i");
    prefix.push_back(o.identity_file);
  }
  if (o.multiplex) {
    for (const std::string& option :
         {std::string("ControlMaster=auto"), "ControlPath=" + directory + "/%C", std::string("ControlPersist=60")}) {
      prefix.push_back("-o");
      prefix.push_back(option);
    }
  }
  prefix.push_back("-T");
  prefix.push_back("--");
  prefix.push_back(o.host);
  if (o.multiplex) ssh_directory::instance().remember_master(prefix);

  argv.assign(prefix.begin(), prefix.end() - 2);
  argv.push_back("-E");
  argv.push_back(session->log_path);
  argv.push_back("--");
  argv.push_back(o.host);
  std::string command = "exec sh -c " + shell_quote(plan.script) + " ductile " + session->token;
  if (command.size() > longest_remote_command) {
    session->script_to_send = plan.script;
    command = "exec sh -c " + shell_quote(remote_sent_script_runner) + " ductile " + session->token;
  }
  argv.push_back(std::move(command));
  return session;
}

DUCTILE_INLINE void ssh_session::prepare(const std::string& command) const {
  const std::string receive = "exec sh -c " + shell_quote(remote_script_receiver) + " ductile " + token;
  std::vector<const char*> argv;
  for (const auto& word : ssh_prefix) argv.push_back(word.c_str());
  argv.push_back(receive.c_str());
  argv.push_back(nullptr);
  int code = -1;
  if (const auto error = sys::run_helper_with_input(argv, script_to_send, code))
    throw_spawn_error(command, "ssh", fmt::format("cannot send the script to {}", label), error);
  if (code != 0)
    throw_spawn_error(
        command, "ssh",
        fmt::format("cannot send the script ({} bytes) to {}: ssh exited with {}", script_to_send.size(), label, code),
        std::error_code());
}

}  // namespace ductile::detail
