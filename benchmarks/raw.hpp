#pragma once
// The baselines: what a careful hand-written implementation does with raw
// system calls. clone(CLONE_VM | CLONE_VFORK | CLONE_PIDFD) on a small stack
// with every signal blocked, execve over the PATH entries as execvp does,
// waitid on the pidfd; 1 MiB pipes; capture into a realloc'd buffer (glibc
// grows large blocks with mremap, so no byte is copied twice); one poll loop.
// Error handling is reduced to aborting: a baseline must only be fast.

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

extern char** environ;

namespace bench::raw {

inline void fail(const char* what) {
  std::perror(what);
  std::abort();
}

// Directories to try for a program without a slash, each ending in '/'.
inline std::vector<std::string> path_directories() {
  std::vector<std::string> result;
  const char* path = std::getenv("PATH");
  std::string text = path != nullptr ? path : "/bin:/usr/bin";
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = text.find(':', start);
    std::string entry = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    result.push_back((entry.empty() ? std::string(".") : entry) + "/");
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return result;
}

struct child_plan {
  const char* const* candidates;  // full paths to try, null-terminated
  char* const* argv;
  int stdio[3];  // -1: inherit
};

inline int child_entry(void* argument) {
  const auto* plan = static_cast<const child_plan*>(argument);
  for (int target = 0; target < 3; ++target)
    if (plan->stdio[target] >= 0 && syscall(SYS_dup2, plan->stdio[target], target) < 0) syscall(SYS_exit, 126);
  unsigned long empty[2] = {0, 0};
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, empty, nullptr, 8L);
  for (const char* const* candidate = plan->candidates; *candidate != nullptr; ++candidate)
    syscall(SYS_execve, *candidate, plan->argv, environ);
  syscall(SYS_exit, 127);
  return 127;
}

// A program resolved once: the candidates a child walks through, as execvp does.
class program {
 public:
  program(const std::string& name, std::vector<std::string> args) : args_(std::move(args)) {
    if (name.find('/') != std::string::npos) {
      paths_.push_back(name);
    } else {
      for (const auto& directory : path_directories()) paths_.push_back(directory + name);
    }
    for (const auto& p : paths_) candidates_.push_back(p.c_str());
    candidates_.push_back(nullptr);
    argv_.push_back(const_cast<char*>(name.c_str()));
    name_ = name;
    argv_[0] = const_cast<char*>(name_.c_str());
    for (auto& a : args_) argv_.push_back(const_cast<char*>(a.c_str()));
    argv_.push_back(nullptr);
  }
  program(const program&) = delete;
  program& operator=(const program&) = delete;

  // Starts the program with the given stdio (-1 inherits) and returns its pidfd.
  int spawn(int in = -1, int out = -1, int err = -1) const {
    alignas(16) static thread_local char stack[64 * 1024];
    child_plan plan{candidates_.data(), argv_.data(), {in, out, err}};
    unsigned long all[2] = {~0UL, ~0UL}, previous[2];
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, all, previous, 8L);
    int pidfd = -1;
    const int pid =
        clone(child_entry, stack + sizeof stack, CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD, &plan, &pidfd);
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, previous, nullptr, 8L);
    if (pid < 0) fail("clone");
    return pidfd;
  }

 private:
  std::string name_;
  std::vector<std::string> args_;
  std::vector<std::string> paths_;
  std::vector<const char*> candidates_;
  std::vector<char*> argv_;
};

inline int wait_pidfd(int pidfd) {
  siginfo_t info{};
  while (syscall(SYS_waitid, P_PIDFD, pidfd, &info, WEXITED, nullptr) < 0)
    if (errno != EINTR) fail("waitid");
  close(pidfd);
  return info.si_status;
}

struct pipe_pair {
  int read = -1, write = -1;
};

inline pipe_pair make_pipe(bool large = true) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) fail("pipe2");
  if (large) fcntl(fds[0], F_SETPIPE_SZ, 1 << 20);
  return {fds[0], fds[1]};
}

// A growable byte buffer on realloc: large blocks live in their own mapping and
// grow with mremap, so pages are faulted once and never copied.
class byte_buffer {
 public:
  // `huge_pages`: also advise transparent huge pages on the block, as ductile does.
  explicit byte_buffer(bool huge_pages = false) : huge_pages_(huge_pages) {}
  byte_buffer(const byte_buffer&) = delete;
  byte_buffer& operator=(const byte_buffer&) = delete;
  ~byte_buffer() { std::free(data_); }
  char* room(std::size_t wanted) {
    if (capacity_ - size_ < wanted) {
      std::size_t next = capacity_ == 0 ? (1 << 20) : capacity_ * 2;
      while (next - size_ < wanted) next *= 2;
      data_ = static_cast<char*>(std::realloc(data_, next));
      if (data_ == nullptr) fail("realloc");
      capacity_ = next;
      if (huge_pages_) advise_huge_pages();
    }
    return data_ + size_;
  }
  void grow(std::size_t n) { size_ += n; }
  std::size_t size() const { return size_; }
  const char* data() const { return data_; }

 private:
  void advise_huge_pages() {
    constexpr std::uintptr_t huge = 2 << 20;
    const auto begin = reinterpret_cast<std::uintptr_t>(data_);
    const std::uintptr_t first = (begin + huge - 1) & ~(huge - 1), last = (begin + capacity_) & ~(huge - 1);
    if (last > first) madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
  }

  bool huge_pages_;
  char* data_ = nullptr;
  std::size_t size_ = 0, capacity_ = 0;
};

// Reads `fd` to end of file with large reads.
inline void drain_into(int fd, byte_buffer& buffer) {
  constexpr std::size_t chunk = 1 << 20;
  for (;;) {
    const ssize_t n = read(fd, buffer.room(chunk), chunk);
    if (n > 0) {
      buffer.grow(static_cast<std::size_t>(n));
    } else if (n == 0) {
      return;
    } else if (errno != EINTR) {
      fail("read");
    }
  }
}

}  // namespace bench::raw
