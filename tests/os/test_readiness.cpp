// The readiness set the background thread waits on: epoll with one-shot
// watches on Linux, poll() in the POSIX backend and for what epoll refuses.
#if __has_include("os/readiness.hpp")
#include "os/readiness.hpp"
#endif  // else the single header has it inline
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

#include "support.hpp"

using ductile::detail::sys::readiness;
using ductile::detail::sys::readiness_set;
using namespace std::chrono_literals;

namespace {

struct pipe_pair {
  int read = -1, write = -1;
  pipe_pair() {
    int ends[2];
    REQUIRE(pipe2(ends, O_CLOEXEC | O_NONBLOCK) == 0);
    read = ends[0];
    write = ends[1];
  }
  ~pipe_pair() { close_both(); }
  void close_both() {
    if (read >= 0) close(read);
    if (write >= 0) close(write);
    read = write = -1;
  }
  void put(const char* text) const { REQUIRE(::write(write, text, std::strlen(text)) > 0); }
};

std::vector<readiness> wait_for(readiness_set& set, std::chrono::nanoseconds timeout) {
  std::vector<readiness> ready;
  REQUIRE_FALSE(set.wait(timeout, ready));
  return ready;
}

bool told(const std::vector<readiness>& ready, std::uint32_t owner, int fd) {
  return std::any_of(ready.begin(), ready.end(),
                     [&](const readiness& r) { return r.owner == owner && r.fd == fd && (r.events & POLLIN) != 0; });
}

}  // namespace

TEST_CASE("a watch reports once, and again only after it is watched again") {
  readiness_set set;
  REQUIRE_FALSE(set.open());
  pipe_pair p;
  set.watch(p.read, POLLIN, 7);
  CHECK(wait_for(set, 0ns).empty());
  p.put("x");
  CHECK(told(wait_for(set, 1s), 7, p.read));
  // Still readable, but reported already.
  CHECK(wait_for(set, 0ns).empty());
  set.watch(p.read, POLLIN, 7);
  CHECK(told(wait_for(set, 1s), 7, p.read));
}

TEST_CASE("a short timeout passes with nothing, and a forgotten descriptor reports to nobody new") {
  readiness_set set;
  REQUIRE_FALSE(set.open());
  pipe_pair p;
  set.watch(p.read, POLLIN, 1);
  const auto start = std::chrono::steady_clock::now();
  CHECK(wait_for(set, 200us).empty());
  CHECK(std::chrono::steady_clock::now() - start >= 200us);
  set.forget(p.read, 1);
  // Closed and its number reused for a new pipe another owner watches: only
  // the new owner is told, and only when its own pipe has something.
  const int number = p.read;
  p.close_both();
  pipe_pair reused;
  if (reused.read != number) {
    MESSAGE("not checked: the descriptor number was not reused");
    return;
  }
  set.watch(reused.read, POLLIN, 2);
  CHECK(wait_for(set, 0ns).empty());
  reused.put("y");
  const auto ready = wait_for(set, 1s);
  REQUIRE(ready.size() == 1);
  CHECK(told(ready, 2, reused.read));
}

TEST_CASE("two owners of one descriptor are both told, and so is the owner of a regular file") {
  readiness_set set;
  REQUIRE_FALSE(set.open());
  test::temp_dir dir;
  pipe_pair p;
  set.watch(p.read, POLLIN, 1);
  set.watch(p.read, POLLIN, 2);  // the kernel's set holds it once: the second is polled
  const int file = open((dir / "plain").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  REQUIRE(file >= 0);
  set.watch(file, POLLIN, 3);  // epoll refuses regular files; poll calls them always ready
  auto ready = wait_for(set, 1s);
  CHECK(told(ready, 3, file));
  CHECK_FALSE(told(ready, 1, p.read));
  p.put("z");
  ready.clear();
  // Both owners, whichever way each is watched, within a few waits.
  for (int i = 0; i < 4 && !(told(ready, 1, p.read) && told(ready, 2, p.read)); ++i) {
    const auto more = wait_for(set, 1s);
    ready.insert(ready.end(), more.begin(), more.end());
  }
  CHECK(told(ready, 1, p.read));
  CHECK(told(ready, 2, p.read));
  close(file);
}
