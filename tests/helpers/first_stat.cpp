// first_stat [STAT_FILE]: the first process::stat() of a fresh process, with
// STAT_FILE bind-mounted over /proc/stat in a private mount namespace when
// given (root only). Prints "virtual resident start_seconds statm_virtual",
// the last read from /proc/self/statm by hand for comparison.
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ductile/proc.hpp>

int main(int argc, char** argv) {
  if (argc > 1) {
    if (::unshare(CLONE_NEWNS) != 0) return 3;
    // Only the proc mount is made private (in a chroot "/" may be no mount at
    // all): the bind mount below must not reach the parent's namespace.
    if (::mount(nullptr, "/proc", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return 4;
    if (::mount(argv[1], "/proc/stat", nullptr, MS_BIND, nullptr) != 0) return 5;
  }
  const auto s = ductile::proc::process::self().stat();
  unsigned long long pages = 0;
  if (FILE* statm = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(statm, "%llu", &pages) != 1) pages = 0;
    std::fclose(statm);
  }
  const auto start = std::chrono::duration_cast<std::chrono::seconds>(s.start_time.time_since_epoch()).count();
  std::printf("%llu %llu %lld %llu\n", static_cast<unsigned long long>(s.virtual_bytes),
              static_cast<unsigned long long>(s.resident_bytes), static_cast<long long>(start),
              pages * static_cast<unsigned long long>(::sysconf(_SC_PAGESIZE)));
  return 0;
}
