#pragma once
/// \file
/// Other machines, reached through the system's OpenSSH client: `e.on(h)`
/// runs the subtree `e` on `h` as one local `ssh` process (see docs/remote.md).

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace ductile::remote {

/// How to reach a machine with `ssh`. Empty fields leave ssh's own
/// configuration (~/.ssh/config, ssh_config) in charge.
struct ssh_options {
  std::string host;                          ///< a name ssh resolves, or an address
  std::string user;                          ///< `-l`; empty: ssh's choice
  int port = 22;                             ///< `-p`
  std::string identity_file;                 ///< `-i`; empty: ssh's choice
  std::vector<std::string> options;          ///< extra `-o` settings, such as "StrictHostKeyChecking=no"
  std::chrono::seconds connect_timeout{10};  ///< `-o ConnectTimeout`
  bool multiplex = true;                     ///< share one master connection per host in this process
};

/// A machine expressions can run on. Copies share nothing mutable.
class host {
 public:
  /// Throws std::invalid_argument for an empty host, a host or user that
  /// ssh would read as an option (a leading '-'), or a port outside 1..65535.
  explicit host(ssh_options options);
  /// This machine, without ssh: `e.on(host::local())` is `e`.
  static host local();
  const ssh_options& options() const noexcept { return *options_; }
  /// The host as messages name it: "user@name:port", parts left out when unset.
  std::string label() const;

 private:
  host() = default;
  std::shared_ptr<const ssh_options> options_;
};

}  // namespace ductile::remote
