#pragma once
// Shared by every suite: the helper programs, and the checks that no run
// leaves a zombie or a descriptor behind.

#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ductile/ductile.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

// The backend the library under test runs on, decided as lib/common.hpp does.
#ifndef DUCTILE_POSIX_BACKEND
#if defined(__linux__) && !defined(DUCTILE_PORTABLE)
#define DUCTILE_POSIX_BACKEND 0
#else
#define DUCTILE_POSIX_BACKEND 1
#endif
#endif

#include "doctest.hpp"

namespace test {

namespace fs = std::filesystem;

// Sanitized builds check every byte they move, reserve large address ranges,
// and ThreadSanitizer cannot start threads in a child forked from a threaded process.
// GCC names them with macros, clang with __has_feature.
#if defined(__has_feature)
#define DUCTILE_TEST_HAS_FEATURE(feature) __has_feature(feature)
#else
#define DUCTILE_TEST_HAS_FEATURE(feature) 0
#endif
#if defined(__SANITIZE_THREAD__) || DUCTILE_TEST_HAS_FEATURE(thread_sanitizer)
inline constexpr bool thread_sanitizer = true;
#else
inline constexpr bool thread_sanitizer = false;
#endif
#if defined(__SANITIZE_ADDRESS__) || DUCTILE_TEST_HAS_FEATURE(address_sanitizer)
inline constexpr bool sanitized = true;
#else
inline constexpr bool sanitized = thread_sanitizer;
#endif
#undef DUCTILE_TEST_HAS_FEATURE

inline fs::path helper_path(const char* name) { return fs::path(DUCTILE_TEST_HELPERS) / name; }

template <class... Args>
ductile::expression helper(const char* name, const Args&... args) {
  return ductile::cmd(helper_path(name), args...);
}

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

// Every process whose parent is this one: after a run, there must be none.
inline std::vector<pid_t> children() {
  std::vector<pid_t> result;
  const pid_t self = getpid();
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    const auto close_paren = line.rfind(')');
    if (close_paren == std::string::npos) continue;
    std::istringstream rest(line.substr(close_paren + 2));
    char state;
    pid_t parent;
    rest >> state >> parent;
    if (parent == self) result.push_back(std::stoi(name));
  }
  return result;
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

// Gone, or a zombie nobody has reaped yet: either way it no longer runs.
inline bool stopped_running(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;
  const auto close_paren = line.rfind(')');
  return close_paren != std::string::npos && line.size() > close_paren + 2 && line[close_paren + 2] == 'Z';
}

inline bool eventually(const std::function<bool()>& condition,
                       std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return condition();
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

struct temp_dir {
  fs::path path;
  temp_dir() {
    std::string pattern = (fs::temp_directory_path() / "ductile-test-XXXXXX").string();
    path = mkdtemp(pattern.data());
  }
  ~temp_dir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
  fs::path operator/(const std::string& name) const { return path / name; }
};

inline std::string slurp(const fs::path& file) {
  std::ifstream in(file, std::ios::binary | std::ios::ate);
  std::string content(static_cast<std::size_t>(std::max<std::streamoff>(in.tellg(), 0)), '\0');
  in.seekg(0);
  in.read(content.data(), static_cast<std::streamsize>(content.size()));
  return content;
}

inline void write_file(const fs::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::binary);
  out << text;
}

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

// The error `work` throws, which must be an `Error`; fails the test otherwise.
template <class Error, class Work>
Error expect_error(Work&& work) {
  try {
    work();
  } catch (const Error& error) {
    return error;
  }
  FAIL("the expected error was not thrown");
  throw std::logic_error("unreachable");
}

}  // namespace test
