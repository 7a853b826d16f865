#pragma once
// Shared by every suite on POSIX systems: the helper programs, and the
// checks that no run leaves a zombie or a descriptor behind.

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include "portable_support.hpp"

namespace test {

// The helpers copied into a 0755 temporary directory, for children that run as
// another user: the build tree may sit where only its owner can reach it (a
// clone in /root, 0700 on Debian). Removed when the test program exits.
inline fs::path reachable_helper_path(const char* name) {
  struct shared_copies {
    fs::path dir;
    shared_copies() {
      std::string pattern = (fs::path("/tmp") / "ductile-helpers-XXXXXX").string();
      if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
      dir = pattern;
      fs::permissions(dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                               fs::perms::others_read | fs::perms::others_exec);
    }
    ~shared_copies() {
      std::error_code ignored;
      fs::remove_all(dir, ignored);
    }
  };
  static shared_copies copies;
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  const fs::path copy = copies.dir / name;
  if (!fs::exists(copy)) {
    const fs::path partial = copies.dir / (std::string(name) + ".partial");
    fs::copy_file(helper_path(name), partial, fs::copy_options::overwrite_existing);
    fs::permissions(partial, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                 fs::perms::others_read | fs::perms::others_exec);
    fs::rename(partial, copy);
  }
  return copy;
}

template <class... Args>
ductile::expression reachable_helper(const char* name, const Args&... args) {
  return ductile::cmd(reachable_helper_path(name), args...);
}

inline std::set<int> open_fds() {
  std::set<int> fds;
  DIR* dir = opendir("/proc/self/fd");
  const int own = dirfd(dir);
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    const int fd = std::atoi(entry->d_name);
    if (fd != own) fds.insert(fd);
  }
  closedir(dir);
  return fds;
}

inline int thread_count() {
  int count = 0;
  for (const auto& entry : fs::directory_iterator("/proc/self/task")) {
    (void)entry;
    ++count;
  }
  return count;
}

// Children are reaped before the calls that started them return, but a killed
// process's exit can take a moment to show in /proc.
inline bool no_children_soon() {
  for (int i = 0; i < 200; ++i) {
    if (children().empty()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

// Processes whose argv is exactly {"sleep", seconds}: each test sleeps for a
// number of its own, so that it finds only the processes it started.
inline int sleeping_processes(const std::string& seconds) {
  int found = 0;
  DIR* proc = ::opendir("/proc");
  const std::string wanted = "sleep" + std::string(1, '\0') + seconds + std::string(1, '\0');
  while (const dirent* entry = ::readdir(proc)) {
    // A process may end while it is read: read(2) fails, and that is "not it".
    const int fd = ::open((std::string("/proc/") + entry->d_name + "/cmdline").c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    char text[64];
    const ssize_t got = ::read(fd, text, sizeof text);
    ::close(fd);
    if (got > 0 && std::string(text, static_cast<std::size_t>(got)) == wanted) ++found;
  }
  ::closedir(proc);
  return found;
}

// Gone, or a zombie nobody has reaped yet: either way it no longer runs.
inline bool stopped_running(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;
  const auto close_paren = line.rfind(')');
  return close_paren != std::string::npos && line.size() > close_paren + 2 && line[close_paren + 2] == 'Z';
}

// Declared at the top of a test: at its end, no new descriptor and no child.
struct leak_check {
  std::set<int> before;
  leak_check() {
    // The shared background thread makes its wake-up descriptor once, on first use.
    static const bool warmed = [] {
      ductile::cmd("true").start().wait();
      return true;
    }();
    (void)warmed;
    before = open_fds();
  }
  ~leak_check() {
    CHECK(no_children_soon());
    // The background thread lets go of a finished run (and its completion
    // descriptor) just after waking its waiters. A descriptor of an earlier
    // test's run may close meanwhile: only new ones are leaks.
    CHECK(eventually(
        [this] {
          const std::set<int> now = open_fds();
          return std::includes(before.begin(), before.end(), now.begin(), now.end());
        },
        std::chrono::seconds(2)));
  }
};

// Ignores SIGPIPE and SIGINT in this process, as many hosts do, until destroyed.
struct ignoring_pipe_and_interrupt {
  struct sigaction old_pipe {};
  struct sigaction old_int {};
  ignoring_pipe_and_interrupt() {
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &ignore, &old_pipe);
    sigaction(SIGINT, &ignore, &old_int);
  }
  ~ignoring_pipe_and_interrupt() {
    sigaction(SIGPIPE, &old_pipe, nullptr);
    sigaction(SIGINT, &old_int, nullptr);
  }
  ignoring_pipe_and_interrupt(const ignoring_pipe_and_interrupt&) = delete;
  ignoring_pipe_and_interrupt& operator=(const ignoring_pipe_and_interrupt&) = delete;
};

}  // namespace test
