// remote_commands PORT_A PORT_B KEY KNOWN_HOSTS [N]: N small remote commands
// (`true`) through on() with and without a shared connection, each with a
// paired baseline of the same ssh command line run by hand, and a pool of 8
// jobs of 0.2 s spread over two servers against one. benchmarks/remote.sh
// starts the servers and adds the shell loop and GNU parallel.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ductile/ductile.hpp>
#include <string>

#include "paired.hpp"

using namespace ductile;

namespace {

remote::host server(int port, const char* key, const char* known, bool multiplex) {
  remote::ssh_options o;
  o.host = "127.0.0.1";
  o.port = port;
  o.identity_file = key;
  o.options = {std::string("UserKnownHostsFile=") + known};
  o.multiplex = multiplex;
  return remote::host(o);
}

double per_command_ms(const expression& e, int n) {
  e.run();  // the first makes the shared connection
  const double s = bench::time_of([&] {
    for (int i = 0; i < n; ++i) e.run();
  });
  return s * 1000 / n;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: remote_commands PORT_A PORT_B KEY KNOWN_HOSTS [N]\n");
    return 2;
  }
  const int a = std::atoi(argv[1]), b = std::atoi(argv[2]);
  const int n = argc > 5 ? std::atoi(argv[5]) : 200;
  const auto shared = server(a, argv[3], argv[4], true);
  const auto direct = server(a, argv[3], argv[4], false);
  // The same command line ssh gets from on(), without the library's wrapper.
  const auto by_hand = cmd("ssh", "-o", std::string("UserKnownHostsFile=") + argv[4], "-o", "BatchMode=yes", "-p", a,
                           "-i", argv[3], "-T", "--", "127.0.0.1", "true");
  std::printf("%d remote `true` commands, ms per command\n", n);
  std::printf("  on(), multiplexed:       %.2f\n", per_command_ms(cmd("true").on(shared), n));
  std::printf("  on(), new connection:    %.2f\n", per_command_ms(cmd("true").on(direct), n));
  std::printf("  ssh by hand, from C++:   %.2f\n", per_command_ms(by_hand, n));

  const auto sleepy = cmd("sleep", "0.2");
  for (const bool two : {false, true}) {
    std::vector<std::pair<remote::host, std::size_t>> slots{{server(a, argv[3], argv[4], true), 4}};
    if (two) slots.push_back({server(b, argv[3], argv[4], true), 4});
    pool warm(slots);
    for (std::size_t i = 0; i < slots.size(); ++i) (void)warm.submit(cmd("true"));
    warm.wait_all();
    const double s = bench::time_of([&] {
      pool p(slots);
      for (int i = 0; i < 32; ++i) (void)p.submit(sleepy);
      p.wait_all();
    });
    std::printf("pool of %s: 32 jobs of 0.2 s in %.2f s\n", two ? "2 hosts x 4 slots" : "1 host x 4 slots", s);
  }
  return 0;
}
