// `cmd("cat").stdin_bytes(data).stdout_null().run()` with 256 MiB of data,
// against a raw spawn fed through a 1 MiB pipe with blocking writes.
//
// usage: feed_stdin [mib=256] [rounds=9]

#include <fcntl.h>
#include <unistd.h>

#include <ductile/ductile.hpp>

#include "paired.hpp"
#include "raw.hpp"

int main(int argc, char** argv) {
  const int mib = bench::argument(argc, argv, 1, 256);
  const int rounds = bench::argument(argc, argv, 2, 9);
  const std::string data(static_cast<std::size_t>(mib) << 20, 'x');

  const auto expression = ductile::cmd("cat").stdin_bytes(data).stdout_null();
  const bench::raw::program raw_cat("cat", {});
  const int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
  bench::compare(("stdin_bytes " + std::to_string(mib) + " MiB | cat").c_str(), rounds, 1, [&] { expression.run(); },
                 [&] {
                   const auto in = bench::raw::make_pipe();
                   const int pidfd = raw_cat.spawn(in.read, null);
                   close(in.read);
                   std::size_t offset = 0;
                   while (offset < data.size()) {
                     const ssize_t n = write(in.write, data.data() + offset, data.size() - offset);
                     if (n < 0) {
                       if (errno == EINTR) continue;
                       bench::raw::fail("write");
                     }
                     offset += static_cast<std::size_t>(n);
                   }
                   close(in.write);
                   bench::raw::wait_pidfd(pidfd);
                 });
}
