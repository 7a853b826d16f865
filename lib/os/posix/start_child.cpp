// start_child for the POSIX backend: posix_spawn where it can express the
// launch, fork otherwise.
//
// posix_spawn covers the common case: streams moved onto 0, 1 and 2, a
// process group, default signals. It cannot change directory, user or
// session, or make a daemon, in POSIX.1-2008: those go through fork, whose
// child runs os/posix/child.cpp. Either way the descriptors open in the
// parent are listed first, and every one above 2 is kept from the program.
// POSIX systems only: Windows has lib/os/windows/.
#ifndef _WIN32
#include "os/start_child.hpp"

#include "common.hpp"
#include "os/system_calls.hpp"

#if DUCTILE_POSIX_BACKEND

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <new>
#include <string>
#include <system_error>
#include <vector>

#include "os/posix/child.hpp"
#include "os/posix/extensions.hpp"
#include "os/posix/fork_lock.hpp"

namespace ductile::detail {

DUCTILE_INLINE start_mode usual_start_mode() noexcept { return start_mode::copied_memory; }

DUCTILE_INLINE pidfd_support pidfds() noexcept { return pidfd_support::absent; }

namespace posix {

// Every slot up to the descriptor limit, asking poll() which are open 128
// at a time (POLLNVAL marks a closed one). The hard limit, not the soft one:
// a descriptor opened before the soft limit was lowered is still open.
// Bounded at 2^20, the usual ceiling of systems' own limits.
DUCTILE_INLINE void probe_open_descriptors(std::vector<int>& out) {
  rlimit limit{};
  rlim_t end = 1024;
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0)
    end = limit.rlim_max == RLIM_INFINITY || limit.rlim_max > limit.rlim_cur ? limit.rlim_max : limit.rlim_cur;
  if (end > (rlim_t{1} << 20)) end = rlim_t{1} << 20;
  constexpr int batch = 128;
  pollfd slots[batch];
  for (rlim_t first = 3; first < end; first += batch) {
    const int count = end - first < batch ? static_cast<int>(end - first) : batch;
    for (int i = 0; i < count; ++i) slots[i] = pollfd{static_cast<int>(first) + i, 0, 0};
    if (::poll(slots, static_cast<nfds_t>(count), 0) < 0) {
      for (int i = 0; i < count; ++i)
        if (::fcntl(slots[i].fd, F_GETFD) >= 0) out.push_back(slots[i].fd);
      continue;
    }
    for (int i = 0; i < count; ++i)
      if ((slots[i].revents & POLLNVAL) == 0) out.push_back(slots[i].fd);
  }
}

// Where the system lists a process's descriptors as the entries of /dev/fd
// (Linux, through /proc; macOS), that list; elsewhere (FreeBSD shows only 0
// to 2 there unless fdescfs is mounted), or if it cannot be read, the probe
// above. The list follows what is open, not RLIMIT_NOFILE.
DUCTILE_INLINE void list_open_descriptors(std::vector<int>& out) {
  out.clear();
#if defined(__linux__) || defined(__APPLE__)
  if (DIR* listing = ::opendir("/dev/fd")) {
    const int own = ::dirfd(listing);
    bool complete = true;
    for (;;) {
      errno = 0;
      const dirent* entry = ::readdir(listing);
      if (entry == nullptr) {
        complete = errno == 0;
        break;
      }
      const char* digit = entry->d_name;
      long fd = 0;
      for (; *digit >= '0' && *digit <= '9'; ++digit) fd = fd * 10 + (*digit - '0');
      if (*digit != '\0' || digit == entry->d_name || fd < 3 || fd == own) continue;
      out.push_back(static_cast<int>(fd));
    }
    ::closedir(listing);
    if (complete) return;
    out.clear();
  }
#endif
  probe_open_descriptors(out);
}

// What posix_spawn can do: no credentials or daemon (a directory where the
// C library can add a chdir, see describe_launch).
// Passed descriptors go through the forked child: posix_spawn's dup2 of a
// descriptor onto itself keeps close-on-exec on some systems.
DUCTILE_INLINE bool spawnable(const child_plan& plan, start_mode mode) noexcept {
  return mode != start_mode::daemon && plan.daemon == nullptr && plan.credentials == nullptr &&
         plan.passed_count == 0 && plan.die_with == 0 && plan.controlling_terminal < 0;
}

// The file actions and attributes of one posix_spawn, destroyed with it.
class spawn_settings {
 public:
  spawn_settings() noexcept {
    ready_ = ::posix_spawn_file_actions_init(&actions_) == 0;
    if (ready_ && ::posix_spawnattr_init(&attributes_) != 0) {
      ::posix_spawn_file_actions_destroy(&actions_);
      ready_ = false;
    }
  }
  ~spawn_settings() {
    if (!ready_) return;
    ::posix_spawn_file_actions_destroy(&actions_);
    ::posix_spawnattr_destroy(&attributes_);
  }
  spawn_settings(const spawn_settings&) = delete;
  spawn_settings& operator=(const spawn_settings&) = delete;

  bool ready() const noexcept { return ready_; }
  posix_spawn_file_actions_t* actions() noexcept { return &actions_; }
  posix_spawnattr_t* attributes() noexcept { return &attributes_; }

 private:
  bool ready_ = false;
  posix_spawn_file_actions_t actions_;
  posix_spawnattr_t attributes_;
};

// What describe_launch answers when posix_spawn cannot do it: never an errno.
inline constexpr int cannot_express = -1;

// Fills `settings` for `plan`: streams, descriptors to close, signals, group.
// Sources below 3 that move are copied above 2 first (`copies`), so that no
// dup2 overwrites another's source.
DUCTILE_INLINE int describe_launch(const child_plan& plan, const std::vector<int>& open, pid_t group,
                                   spawn_settings& settings, unique_fd (&copies)[3]) noexcept {
  int source[3] = {plan.stdio[0], plan.stdio[1], plan.stdio[2]};
  for (int target = 0; target < 3; ++target) {
    if (source[target] == target || source[target] >= 3) continue;
    if (const auto error = sys::duplicate(source[target], copies[target])) return error.value();
    source[target] = copies[target].get();
  }
  for (int target = 0; target < 3; ++target) {
    if (source[target] == target) continue;
    if (const int error = ::posix_spawn_file_actions_adddup2(settings.actions(), source[target], target)) return error;
  }
  // The program may keep nothing above 2: close-on-exec ones go by
  // themselves, the others (a host's own) are closed.
  for (const int fd : open) {
    const int flags = ::fcntl(fd, F_GETFD);
    if (flags < 0 || (flags & FD_CLOEXEC) != 0) continue;
    // Refused for a descriptor above the soft RLIMIT_NOFILE (lowered after
    // it was opened): the forked child closes it instead.
    if (::posix_spawn_file_actions_addclose(settings.actions(), fd) != 0) return cannot_express;
  }
  // Last, as the forked child does it: the streams were opened by the parent.
  if (plan.dir != nullptr && spawn_action_chdir(settings.actions(), plan.dir) != 0) return cannot_express;
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  sigset_t none, every;
  sigemptyset(&none);
  sigfillset(&every);
  sigdelset(&every, SIGKILL);
  sigdelset(&every, SIGSTOP);
#if defined(__GLIBC__)
  // glibc's sigfillset leaves out the two signals it keeps for itself (32
  // and 33), and its posix_spawn then leaves those *ignored* in the child,
  // across exec. Their bits, set directly, ask for their defaults too.
  constexpr int bits = 8 * sizeof every.__val[0];
  for (const int own : {32, 33}) every.__val[(own - 1) / bits] |= 1UL << ((own - 1) % bits);
#endif
  ::posix_spawnattr_setsigmask(settings.attributes(), &none);
  ::posix_spawnattr_setsigdefault(settings.attributes(), &every);
  if (group >= 0) {
    flags |= POSIX_SPAWN_SETPGROUP;
    ::posix_spawnattr_setpgroup(settings.attributes(), group);
  }
  return ::posix_spawnattr_setflags(settings.attributes(), flags);
}

// posix_spawn, searching the child's own PATH (posix_spawnp would search the
// parent's). Returns 0 or the error of the exec.
DUCTILE_INLINE int spawn_searching(const child_plan& plan, spawn_settings& settings, pid_t& pid) {
  char* const* argv = const_cast<char* const*>(plan.argv);
  char* const* envp = const_cast<char* const*>(plan.envp);
  if (plan.search_path == nullptr)
    return ::posix_spawn(&pid, plan.program, settings.actions(), settings.attributes(), argv, envp);
  int error = ENOENT;
  bool saw_access_denied = false;
  std::string candidate;
  for (const char* entry = plan.search_path;;) {
    const char* entry_end = entry;
    while (*entry_end != '\0' && *entry_end != ':') ++entry_end;
    candidate.assign(entry, entry_end);
    if (candidate.empty()) candidate = ".";  // an empty entry means the current directory
    candidate += '/';
    candidate += plan.program;
    // A name that is not there is skipped without a spawn: on glibc a failed
    // posix_spawn costs a whole child, and PATH often has many entries.
    // (A relative entry names a place in the child's directory: not checked here.)
    struct stat found {};
    const bool checkable = plan.dir == nullptr || candidate.front() == '/';
    if (checkable && ::stat(candidate.c_str(), &found) != 0 && keeps_searching(errno) && errno != EACCES) {
      error = errno;
    } else {
      error = ::posix_spawn(&pid, candidate.c_str(), settings.actions(), settings.attributes(), argv, envp);
    }
    if (error == 0) return 0;
    if (error == EACCES) saw_access_denied = true;
    if (!keeps_searching(error) || *entry_end == '\0') break;
    entry = entry_end + 1;
  }
  return saw_access_denied && keeps_searching(error) ? EACCES : error;
}

}  // namespace posix

DUCTILE_INLINE started_child start_child(child_plan& plan, child_report& report, start_mode mode) noexcept {
  started_child result;
  const int saved_errno = errno;
  const auto failed = [&](int error, const char* step, const char* what) {
    result.error = std::error_code(error, std::generic_category());
    result.step = step;
    result.what = what;
    errno = saved_errno;
    return std::move(result);
  };
  try {
    posix::no_descriptors_being_made no_new_pipes;
    // One list for the process, used under the fork lock; never destroyed, so
    // a spawn from an atexit handler or a static destructor still has it.
    static std::vector<int>& open = *new std::vector<int>();
    posix::list_open_descriptors(open);

    bool expressible = posix::spawnable(plan, mode);
    if (expressible) {
      pid_t group = plan.process_group;
      for (bool first = true;; first = false) {
        posix::spawn_settings settings;
        if (!settings.ready()) return failed(ENOMEM, "clone", "create a process");
        unique_fd copies[3];
        const int described = posix::describe_launch(plan, open, group, settings, copies);
        if (described == posix::cannot_express) {
          expressible = false;
          break;
        }
        if (described != 0) return failed(described, "stdio", "set up stdin/stdout/stderr");
        if (first) {
          // The fault seam's clone and exec, asked in the parent as the
          // spawn makes no child code of ours.
          if (const int fault = sys::injected_fault(sys::call::clone))
            return failed(fault, "clone", "create a process");
          if (const int fault = sys::injected_fault(sys::call::exec)) {
            report.step = child_step::exec;
            report.error = fault;
            break;
          }
        }
        pid_t pid = -1;
        const int error = posix::spawn_searching(plan, settings, pid);
        // Joining the group of a subtree whose members have all been reaped
        // fails: lead a new one, as the forked child does.
        if (error == EPERM && group > 0) {
          group = 0;
          continue;
        }
        if (error == EAGAIN) return failed(error, "clone", "create a process");
        if (error != 0) {
          // posix_spawn does not say which action failed: a directory that
          // cannot be entered is named as such, as the forked child names it.
          report.step = child_step::exec;
          report.error = error;
          if (plan.dir != nullptr) {
            struct stat entered {};
            const int unusable = ::stat(plan.dir, &entered) != 0 ? errno : S_ISDIR(entered.st_mode) ? 0 : ENOTDIR;
            if (unusable != 0) {
              report.step = child_step::chdir;
              report.error = unusable;
            }
          }
          break;
        }
        report.made_group = group == 0;
        result.process.pid = pid;
        break;
      }
      if (expressible) {
        errno = saved_errno;
        return result;
      }
    }

    // fork: the report comes over a pipe, made here in one go because this
    // thread holds the fork lock already.
    int channel_fds[2];
    // A daemon's pipe is a pipe like any (and fails like one under the fault
    // seam); an ordinary child's stands in for Linux's shared memory.
    const int fault = mode == start_mode::daemon ? sys::injected_fault(sys::call::pipe) : 0;
    if (fault != 0) return failed(fault, "pipe", "make a pipe");
    if (::pipe(channel_fds) != 0) return failed(errno, "pipe", "make a pipe");
    ::fcntl(channel_fds[0], F_SETFD, FD_CLOEXEC);
    ::fcntl(channel_fds[1], F_SETFD, FD_CLOEXEC);
    pipe_ends channel;
    channel.read.reset(sys::keep_above_stdio(channel_fds[0]));
    channel.write.reset(sys::keep_above_stdio(channel_fds[1]));
    plan.report = &report;
    plan.report_fd = channel.write.get();

    pid_t pid = -1;
    int fork_errno = 0;
    {
      // No handler of the parent may run in the child before it resets them.
      const sys::thread_signals_blocked blocked;
      if (const int fault = sys::injected_fault(sys::call::clone)) {
        fork_errno = fault;
      } else {
        const sys::forking_to_exec only_to_exec;
        pid = ::fork();
        if (pid == 0) posix::run_forked_child(plan, posix::open_descriptors{open.data(), open.size()});
        if (pid < 0) fork_errno = errno;
      }
    }
    no_new_pipes.release();
    channel.write.reset();  // the child holds the only write end now
    if (pid < 0) {
      return failed(fork_errno, mode == start_mode::daemon ? "fork" : "clone",
                    mode == start_mode::daemon ? "fork" : "create a process");
    }
    result.process.pid = pid;
    if (mode == start_mode::daemon) {
      // The intermediate child exits as soon as it has forked the daemon.
      siginfo_t info{};
      if (sys::wait_process(result.process, info, WEXITED, nullptr)) sys::reap_now(result.process);
      result.process = process_handle{};
    }
    read_child_reports(channel.read.get(), report);
    if (mode == start_mode::daemon) {
      result.process.pid = report.daemon;
    } else if (report.step != child_step::none) {
      sys::reap_now(result.process);  // it has exited after its report
    }
    errno = saved_errno;
    return result;
  } catch (const std::bad_alloc&) {
    return failed(ENOMEM, "clone", "create a process");
  } catch (const std::system_error& error) {
    return failed(error.code().value(), "clone", "create a process");
  }
}

}  // namespace ductile::detail

#endif  // DUCTILE_POSIX_BACKEND
#endif  // _WIN32
