// The baseline: posix_spawnp and waitpid; a pipe read into a doubling buffer.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "workload.hpp"

extern char** environ;

namespace {
pid_t start(const std::vector<std::string>& argv, const posix_spawn_file_actions_t* actions) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid;
  if (posix_spawnp(&pid, args[0], actions, nullptr, args.data(), environ) != 0) std::abort();
  return pid;
}
void reap(pid_t pid) {
  int status;
  while (waitpid(pid, &status, 0) < 0) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) std::abort();
}
}  // namespace

void peer::spawn_true() { reap(start({"true"}, nullptr)); }

std::size_t peer::capture(const std::vector<std::string>& argv) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) std::abort();
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  const pid_t pid = start(argv, &actions);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  growing_buffer out;
  for (;;) {
    char* into = out.free_space();
    const ssize_t got = read(fds[0], into, out.room());
    if (got <= 0) break;
    out.filled(static_cast<std::size_t>(got));
  }
  close(fds[0]);
  reap(pid);
  return out.size();
}

// Each stage's ends dup2'd into place by posix_spawn; the parent closes its
// copies as soon as the stages that use them exist.
void peer::pipeline_true() {
  int first[2], second[2];
  if (pipe2(first, O_CLOEXEC) != 0 || pipe2(second, O_CLOEXEC) != 0) std::abort();
  posix_spawn_file_actions_t writes_first, between, reads_second;
  posix_spawn_file_actions_init(&writes_first);
  posix_spawn_file_actions_adddup2(&writes_first, first[1], 1);
  posix_spawn_file_actions_init(&between);
  posix_spawn_file_actions_adddup2(&between, first[0], 0);
  posix_spawn_file_actions_adddup2(&between, second[1], 1);
  posix_spawn_file_actions_init(&reads_second);
  posix_spawn_file_actions_adddup2(&reads_second, second[0], 0);
  const pid_t a = start({"true"}, &writes_first);
  const pid_t b = start({"true"}, &between);
  const pid_t c = start({"true"}, &reads_second);
  for (posix_spawn_file_actions_t* actions : {&writes_first, &between, &reads_second})
    posix_spawn_file_actions_destroy(actions);
  for (int fd : {first[0], first[1], second[0], second[1]}) close(fd);
  reap(a);
  reap(b);
  reap(c);
}

void peer::pool(long count, int parallel) { pool_of_threads(count, parallel); }

// No event loop: the baseline is the same threads, one per job in flight.
void peer::async_jobs(long count, int parallel) { pool_of_threads(count, parallel); }
