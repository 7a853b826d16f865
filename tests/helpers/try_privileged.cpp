// try_privileged ACTION [ARG]: attempts one privileged thing and prints "ok" or
// "denied". ACTION: bind PORT (127.0.0.1), raw (a raw socket), chown FILE (to
// uid 0), read FILE.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  const char* action = argv[1];
  bool ok = false;
  if (std::strcmp(action, "bind") == 0 && argc > 2) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<unsigned short>(std::atoi(argv[2])));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok = fd >= 0 && bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  } else if (std::strcmp(action, "raw") == 0) {
    ok = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP) >= 0;
  } else if (std::strcmp(action, "chown") == 0 && argc > 2) {
    ok = chown(argv[2], 0, 0) == 0;
  } else if (std::strcmp(action, "read") == 0 && argc > 2) {
    ok = open(argv[2], O_RDONLY) >= 0;
  } else {
    return 2;
  }
  std::puts(ok ? "ok" : "denied");
  return 0;
}
