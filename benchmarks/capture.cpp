// Capturing stdout: `cmd(writer, n).read()` and `(cmd(writer, n) | cmd("cat")).read()`
// against a raw spawn that reads into a realloc'd buffer through a 1 MiB pipe.
//
// usage: capture WRITER [mib=1024] [rounds=7] [no-thp]
// `no-thp` switches transparent huge pages off for this process (and its
// children), to see what capture costs on machines without them.

#include <sys/prctl.h>
#include <unistd.h>

#include <ductile/ductile.hpp>

#include "paired.hpp"
#include "raw.hpp"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: capture WRITER [mib] [rounds]\n");
    return 2;
  }
  const std::string writer = argv[1];
  const int mib = bench::argument(argc, argv, 2, 1024);
  const int rounds = bench::argument(argc, argv, 3, 7);
  if (argc > 4 && std::string(argv[4]) == "no-thp" && prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) != 0) {
    std::perror("PR_SET_THP_DISABLE");
    return 1;
  }
  const std::string bytes = std::to_string(static_cast<unsigned long long>(mib) << 20);
  const std::size_t expected = static_cast<std::size_t>(mib) << 20;

  using ductile::cmd;
  const bench::raw::program raw_writer(writer, {bytes});
  const bench::raw::program raw_cat("cat", {});
  auto check = [&](std::size_t got) {
    if (got != expected) {
      std::fprintf(stderr, "captured %zu bytes, expected %zu\n", got, expected);
      std::exit(1);
    }
  };

  const auto alone = cmd(writer, bytes);
  bench::compare(("capture " + std::to_string(mib) + " MiB").c_str(), rounds, 1, [&] { check(alone.read().size()); },
                 [&] {
                   const auto out = bench::raw::make_pipe();
                   const int pidfd = raw_writer.spawn(-1, out.write);
                   close(out.write);
                   bench::raw::byte_buffer buffer;
                   bench::raw::drain_into(out.read, buffer);
                   close(out.read);
                   bench::raw::wait_pidfd(pidfd);
                   check(buffer.size());
                 });

  // The same baseline with huge pages advised too: how much of the lead is huge pages.
  bench::compare(("capture " + std::to_string(mib) + " MiB, baseline with huge pages").c_str(), rounds, 1,
                 [&] { check(alone.read().size()); },
                 [&] {
                   const auto out = bench::raw::make_pipe();
                   const int pidfd = raw_writer.spawn(-1, out.write);
                   close(out.write);
                   bench::raw::byte_buffer buffer(true);
                   bench::raw::drain_into(out.read, buffer);
                   close(out.read);
                   bench::raw::wait_pidfd(pidfd);
                   check(buffer.size());
                 });

  const auto piped = cmd(writer, bytes) | cmd("cat");
  bench::compare(("writer | cat, capture " + std::to_string(mib) + " MiB").c_str(), rounds, 1,
                 [&] { check(piped.read().size()); },
                 [&] {
                   const auto middle = bench::raw::make_pipe();
                   const auto out = bench::raw::make_pipe();
                   const int a = raw_writer.spawn(-1, middle.write);
                   close(middle.write);
                   const int b = raw_cat.spawn(middle.read, out.write);
                   close(middle.read);
                   close(out.write);
                   bench::raw::byte_buffer buffer;
                   bench::raw::drain_into(out.read, buffer);
                   close(out.read);
                   bench::raw::wait_pidfd(a);
                   bench::raw::wait_pidfd(b);
                   check(buffer.size());
                 });
}
