// Jobs per second of a pool that is a make jobserver's client, against a
// plain pool of the same size, in paired rounds: 1,000 `true` jobs under a
// jobserver holding N-1 tokens (as `make -jN` would) and pool(N). The ratio
// is the cost of taking and giving back a token per job.
//
// usage: jobserver_client [jobs] [rounds]

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <ductile/ductile.hpp>
#include <string>
#include <vector>

#include "paired.hpp"

namespace {

void run_jobs(ductile::pool& p, int jobs) {
  std::vector<ductile::handle> handles;
  handles.reserve(static_cast<std::size_t>(jobs));
  const auto job = ductile::cmd("/bin/true");
  for (int i = 0; i < jobs; ++i) handles.push_back(p.submit(job));
  p.wait_all();
  for (auto& h : handles) h.wait();
}

}  // namespace

int main(int argc, char** argv) {
  const int jobs = bench::argument(argc, argv, 1, 1000);
  const int rounds = bench::argument(argc, argv, 2, 7);
  std::printf("%d jobs of /bin/true per round; ratio = jobserver client / plain pool (time)\n", jobs);
  for (const int parallel : {2, 8}) {
    // The jobserver a `make -jN` makes: a pipe holding N-1 tokens.
    int fds[2];
    if (::pipe(fds) != 0) return 1;
    const std::string tokens(static_cast<std::size_t>(parallel - 1), '+');
    if (::write(fds[1], tokens.data(), tokens.size()) != static_cast<ssize_t>(tokens.size())) return 1;
    const std::string flags =
        " -j" + std::to_string(parallel) + " --jobserver-auth=" + std::to_string(fds[0]) + "," + std::to_string(fds[1]);
    ::setenv("MAKEFLAGS", flags.c_str(), 1);
    const std::string name = "pool of " + std::to_string(parallel) + ", jobs";
    bench::compare(
        name.c_str(), rounds, jobs,
        [&] {
          ductile::pool client = ductile::pool::from_jobserver(1);
          run_jobs(client, jobs);
        },
        [&] {
          ductile::pool plain(static_cast<std::size_t>(parallel));
          run_jobs(plain, jobs);
        });
    ::unsetenv("MAKEFLAGS");
    ::close(fds[0]);
    ::close(fds[1]);
  }
  return 0;
}
