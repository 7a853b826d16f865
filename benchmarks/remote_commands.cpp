// remote_commands PORT_A PORT_B KEY KNOWN_HOSTS [N] [ROUNDS]: N small remote
// commands (`true`) through on() against the same ssh command run by hand
// (cmd("ssh", ..., "true")), with and without a shared connection, in paired
// rounds; then a pool of 32 jobs of 0.2 s spread over two servers against
// one. benchmarks/remote.sh starts the servers and adds a bash loop and GNU
// parallel.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ductile/ductile.hpp>
#include <string>
#include <vector>

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

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: remote_commands PORT_A PORT_B KEY KNOWN_HOSTS [N] [ROUNDS]\n");
    return 2;
  }
  const int a = std::atoi(argv[1]), b = std::atoi(argv[2]);
  const int n = bench::argument(argc, argv, 5, 200);
  const int rounds = bench::argument(argc, argv, 6, 10);
  const int per_round = std::max(1, n / rounds);
  const std::string known = std::string("UserKnownHostsFile=") + argv[4];
  const std::string shared_path = std::string("ControlPath=/tmp/remote-bench-%C");
  const auto by_hand = [&](bool shared) {
    auto args = std::vector<std::string>{"-o", known, "-o", "BatchMode=yes", "-p", std::to_string(a), "-i", argv[3]};
    if (shared) args.insert(args.end(), {"-o", "ControlMaster=auto", "-o", shared_path, "-o", "ControlPersist=60"});
    args.insert(args.end(), {"-T", "--", "127.0.0.1", "true"});
    return cmd("ssh", args);
  };
  const auto repeat = [per_round](const expression& e) {
    return [e, per_round] {
      for (int i = 0; i < per_round; ++i) e.run();
    };
  };
  std::printf("%d rounds of %d remote `true` commands, per command:\n", rounds, per_round);
  const auto shared = bench::compare("on(), shared connection", rounds, per_round,
                                     repeat(cmd("true").on(server(a, argv[3], argv[4], true))), repeat(by_hand(true)));
  const auto direct =
      bench::compare("on(), a connection each", rounds, per_round,
                     repeat(cmd("true").on(server(a, argv[3], argv[4], false))), repeat(by_hand(false)));
  std::printf("sharing the connection: %.2f ms instead of %.2f ms (%.1fx faster)\n", bench::median(shared.ours) * 1e3,
              bench::median(direct.ours) * 1e3, bench::median(direct.ours) / bench::median(shared.ours));
  cmd("ssh", "-o", shared_path, "-O", "exit", "127.0.0.1").unchecked().stderr_null().run();

  const auto sleepy = cmd("sleep", "0.2");
  for (const bool two : {false, true}) {
    std::vector<std::pair<remote::host, std::size_t>> slots;
    slots.reserve(2);
    slots.emplace_back(server(a, argv[3], argv[4], true), 4);
    if (two) slots.emplace_back(server(b, argv[3], argv[4], true), 4);
    pool warm(slots);
    for (std::size_t i = 0; i < slots.size(); ++i) warm.submit(cmd("true"));
    warm.wait_all();
    std::vector<double> times;
    for (int round = 0; round < 3; ++round)
      times.push_back(bench::time_of([&] {
        pool p(slots);
        progress last;
        p.on_progress([&](const progress& now) { last = now; });
        for (int i = 0; i < 32; ++i) p.submit(sleepy);
        p.wait_all();
        if (last.done != 32 || last.failed != 0) {
          std::fprintf(stderr, "the pool finished %zu jobs of 32, %zu failed\n", last.done, last.failed);
          std::exit(1);
        }
      }));
    std::printf("pool of %s: 32 jobs of 0.2 s in %.2f s (median of 3)\n",
                two ? "2 hosts x 4 slots" : "1 host x 4 slots", bench::median(times));
  }
  return 0;
}
