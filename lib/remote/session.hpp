#pragma once
// One remote subtree at run time: the local `ssh` process's command line and
// what the run needs from it later: a way to signal the far side, and ssh's
// own messages, which tell its failures from the remote command's status.

#include <memory>
#include <string>
#include <vector>

#include "remote/plan.hpp"

namespace ductile::detail {

struct remote_session {
  remote_session() = default;
  remote_session(const remote_session&) = delete;
  remote_session& operator=(const remote_session&) = delete;
  // ssh writes its log only when it fails; a run killed meanwhile is reaped
  // without reading it, so the log goes here.
  ~remote_session();

  std::vector<std::string> ssh_prefix;  // ssh, its options, "--" and the host
  std::string token;                    // names the run's directory on the far side
  std::string log_path;                 // ssh -E: its messages, not the command's
  std::string label;                    // the host, for messages
  // A script too long to be one argument (Linux takes at most 128 KiB, and
  // sshd passes the whole command to the remote shell as one): sent ahead by
  // send_script() into the run's directory there, which the command reads.
  std::string script_to_send;

  // Runs before the ssh process is spawned when script_to_send is set.
  // Throws spawn_error naming `command` if the script cannot be sent.
  void send_script(const std::string& command) const;

  // Sends `signal` to every process of the run on the far side, through a
  // new ssh command started and not waited for. A kill that comes before
  // the run has started there stops it from starting. Best effort: a lost
  // connection loses the signal too.
  void signal(int signal) const noexcept;
  // What ssh itself printed (empty if nothing); the log is removed.
  std::string take_log() const noexcept;
};

// The argv of the ssh process that runs `plan`, and its session. Makes the
// process's private ssh directory on first use; throws spawn_error if that fails.
std::shared_ptr<const remote_session> open_session(const remote_plan& plan, argument_list& argv);

}  // namespace ductile::detail
