// remote_once PORT KEY KNOWN_HOSTS: runs `true` on 127.0.0.1:PORT through a
// shared ssh connection, lists what the library's ssh directory holds (in
// $TMPDIR, which the test chooses), and exits. The test then checks that
// exit closed the connection and removed the directory.
#include <cstdlib>
#include <ductile/ductile.hpp>
#include <string>

int main(int argc, char** argv) {
  if (argc != 4) return 2;
  using namespace ductile;
  const remote::host where(remote::ssh_options{
      "127.0.0.1", "", std::atoi(argv[1]), argv[2], {std::string("UserKnownHostsFile=") + argv[3]}});
  cmd("true").on(where).run();
  cmd("sh", "-c", "ls -A \"$TMPDIR\"/ductile-ssh-*").run();
  return 0;
}
