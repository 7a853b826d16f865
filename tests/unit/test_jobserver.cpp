// MAKEFLAGS as a jobserver's client and server read and write it.
#if __has_include("jobserver/auth.hpp")
#include "jobserver/auth.hpp"
#include "support.hpp"

using namespace ductile;

TEST_CASE("MAKEFLAGS: the last jobserver option wins, in both styles") {
  using detail::jobserver_auth;
  auto auth = detail::parse_jobserver_auth(" -j8 --jobserver-auth=3,4");
  CHECK(auth.kind == jobserver_auth::style::descriptors);
  CHECK(auth.read_fd == 3);
  CHECK(auth.write_fd == 4);
  auth = detail::parse_jobserver_auth("-j --jobserver-auth=fifo:/tmp/GMfifo123");
  CHECK(auth.kind == jobserver_auth::style::fifo);
  CHECK(auth.fifo_path == "/tmp/GMfifo123");
  auth = detail::parse_jobserver_auth(" --jobserver-auth=fifo:/x --jobserver-auth=5,6 -- VAR=--jobserver-auth=7,8");
  CHECK(auth.kind == jobserver_auth::style::descriptors);
  CHECK(auth.read_fd == 5);
  CHECK(detail::parse_jobserver_auth(" --jobserver-fds=9,10 -j").write_fd == 10);
  CHECK(detail::parse_jobserver_auth("k -j4").kind == jobserver_auth::style::none);
  auth = detail::parse_jobserver_auth(" --jobserver-auth=bogus");
  CHECK(auth.kind == jobserver_auth::style::none);
  CHECK(auth.text == "--jobserver-auth=bogus");
  CHECK(detail::served_makeflags("/t/fifo", 5, 6) == " -j --jobserver-auth=fifo:/t/fifo --jobserver-auth=5,6");
}
#else
#include "support.hpp"
TEST_CASE("jobserver internals are not reachable from the single header build") {}
#endif
