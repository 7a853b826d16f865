#pragma once
// A real OpenSSH server for the tests: keys made in a temporary directory,
// its own sshd_config, listening on a free port of 127.0.0.1, stopped when
// destroyed. The client side is a remote::host with that key and a known
// hosts file holding only this server's key.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <ductile/ductile.hpp>
#include <optional>
#include <string>
#include <thread>

#include "local_ports.hpp"
#include "support.hpp"

namespace remote_test {

using namespace test;

inline bool accepts_connections(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return ok;
}

// Why a server cannot run here, or nothing.
inline std::optional<std::string> why_no_server() {
  if (::geteuid() != 0) return "sshd needs root to run sessions";
  if (::access("/usr/sbin/sshd", X_OK) != 0) return "/usr/sbin/sshd is not installed (openssh-server)";
  if (!ductile::which("ssh") || !ductile::which("ssh-keygen")) return "ssh or ssh-keygen is not installed";
  return std::nullopt;
}

struct ssh_server {
  temp_dir dir;
  int port = 0;
  std::optional<ductile::handle> daemon;

  ssh_server() {
    using namespace ductile;
    for (const char* key : {"host_key", "user_key", "other_key"})
      cmd("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", dir / key).stdout_null().run();
    fs::copy_file(dir / "user_key.pub", dir / "authorized_keys");
    fs::create_directories("/run/sshd");  // sshd's privilege separation directory
    fs::create_directories(dir / "home");
    fs::create_directories(dir / "cdpath" / "only-in-cdpath");
    // The port was free when chosen, but anything on the machine (another
    // suite's servers, a client's outgoing connection) may take it before
    // sshd binds it: then sshd exits, and another port is tried.
    for (int attempt = 1;; ++attempt) {
      if (listening_on_a_free_port()) return;
      if (attempt == 5) throw std::runtime_error("sshd did not start; its log: " + slurp(dir / "sshd.log"));
    }
  }

  bool listening_on_a_free_port() {
    using namespace ductile;
    port = test::free_local_port();
    write_file(dir / "sshd_config", "ListenAddress 127.0.0.1\nPort " + std::to_string(port) + "\nHostKey " +
                                        (dir / "host_key").string() + "\nAuthorizedKeysFile " +
                                        (dir / "authorized_keys").string() +
                                        "\nStrictModes no\nPidFile none\nUsePAM no\nPermitRootLogin yes\n"
                                        "PasswordAuthentication no\nKbdInteractiveAuthentication no\n"
                                        "MaxSessions 200\nMaxStartups 200\nLogLevel ERROR\n"
                                        // A login environment with CDPATH, which cd must not search,
                                        // and a HOME of its own: the login shell (bash) reads no
                                        // ~/.bashrc of the machine's, whose output would mix with
                                        // the commands'.
                                        "SetEnv CDPATH=" +
                                        (dir / "cdpath").string() + " HOME=" + (dir / "home").string() + "\n");
    const std::string host_key = slurp(dir / "host_key.pub");
    write_file(dir / "known_hosts", "[127.0.0.1]:" + std::to_string(port) + " " + host_key);
    daemon.emplace(cmd("/usr/sbin/sshd", "-f", dir / "sshd_config", "-D", "-e")
                       .stderr_path(dir / "sshd.log")
                       .stdin_null()
                       .stdout_null()
                       .unchecked()
                       .start());
    // Listening, and by this sshd: one that could not bind exits at once.
    const bool listening = eventually([this] { return accepts_connections(port) || daemon->try_wait() != nullptr; }) &&
                           daemon->try_wait() == nullptr;
    if (listening) return true;
    daemon->kill();
    (void)daemon->wait();
    daemon.reset();
    return false;
  }
  ~ssh_server() {
    try {
      daemon->kill();
    } catch (...) {
    }
  }

  ductile::remote::ssh_options options(bool multiplex = true) const {
    ductile::remote::ssh_options o;
    o.host = "127.0.0.1";
    o.port = port;
    o.identity_file = (dir / "user_key").string();
    o.options = {"UserKnownHostsFile=" + (dir / "known_hosts").string(), "StrictHostKeyChecking=yes"};
    o.connect_timeout = std::chrono::seconds(5);
    o.multiplex = multiplex;
    return o;
  }
  ductile::remote::host host(bool multiplex = true) const { return ductile::remote::host(options(multiplex)); }
};

}  // namespace remote_test
