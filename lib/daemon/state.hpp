#pragma once
// What the daemon's functions share: the pipe back to the launcher and
// systemd's notify socket, each read or made once per process.

#include <string>
#include <vector>

#include "common.hpp"

namespace ductile::daemon::detail {

// The write end of the pipe the launcher reads, in the daemon that become()
// made; -1 everywhere else and once ready() has answered.
int& launcher_report() noexcept;

// The descriptors of the signal loops alive in this process, which
// become() keeps open with those the options list.
std::vector<int>& signal_loop_fds();

// NOTIFY_SOCKET as this process found it, removed from the environment so
// that children do not speak for the service; empty without systemd.
const std::string& notify_socket();

// Sends `state` ("READY=1", ...) as one datagram to the notify socket;
// nothing without one. Throws std::system_error if the socket refuses it.
void notify(const std::string& state);

}  // namespace ductile::daemon::detail
