#pragma once
// One on(host) subtree at run time: the local `ssh` process's command line
// and what the run needs from it later: a way to signal the far side, and
// ssh's own messages, which tell its failures from the remote command's status.

#include <memory>
#include <string>
#include <vector>

#include "remote/far_side.hpp"

namespace ductile::detail {

class ssh_session final : public far_side {
 public:
  // ssh writes its log only when it fails; a run killed meanwhile is reaped
  // without reading it, so the log goes here.
  ~ssh_session() override;

  bool prepares() const noexcept override { return !script_to_send.empty(); }
  // Sends a script too long to be one argument ahead. Throws spawn_error
  // naming `command` if it cannot be sent.
  void prepare(const std::string& command) const override;
  // Sends `signal` to every process of the run on the far side, through a
  // new ssh command started and not waited for. A kill that comes before
  // the run has started there stops it from starting. Best effort: a lost
  // connection loses the signal too.
  void signal(int signal) const noexcept override;
  // ssh exits 255 for its own failures and when the remote command does:
  // only the first leaves a message in its log (LogLevel=ERROR, -E).
  far_side_report ended(const std::string& command, const exit_status& status, bool signalled) const override;

  std::vector<std::string> ssh_prefix;  // ssh, its options, "--" and the host
  std::string token;                    // names the run's directory on the far side
  std::string log_path;                 // ssh -E: its messages, not the command's
  std::string label;                    // the host, for messages
  // A script too long to be one argument (Linux takes at most 128 KiB, and
  // sshd passes the whole command to the remote shell as one): sent ahead by
  // prepare() into the run's directory there, which the command reads.
  std::string script_to_send;

 private:
  // What ssh itself printed (empty if nothing); the log is removed.
  std::string take_log() const noexcept;
};

// The argv of the ssh process that runs `plan` on `where`, and its session.
// Makes the process's private ssh directory on first use; throws spawn_error
// if that fails.
std::shared_ptr<const ssh_session> open_ssh_session(const remote_plan& plan, const remote::host& where,
                                                    argument_list& argv);

// A new random token: 32 hex digits.
std::string new_remote_token();

}  // namespace ductile::detail
