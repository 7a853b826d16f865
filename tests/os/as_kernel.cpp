// as_kernel PROFILE -- PROGRAM ARGS...: runs PROGRAM (and everything it
// starts) under a seccomp filter that answers as an older kernel or a strict
// container would. Raw BPF, no libseccomp. Profiles:
//   5.10   no close_range (ENOSYS)
//   5.3    no close_range, pidfd_open, pidfd_send_signal, clone3 (ENOSYS);
//          clone with CLONE_PIDFD and waitid(P_PIDFD) refused (EINVAL);
//          no MADV_POPULATE_READ/WRITE (EINVAL)
//   4.18   as 5.3 (a real 4.18 ignores CLONE_PIDFD instead of refusing it,
//          which a filter cannot imitate)
//   eperm  everything 5.3 refuses, refused with EPERM, as container profiles
//          answer calls they do not know; except clone3, which such profiles
//          answer with ENOSYS (Docker's does): the C library then falls back
//          to clone, where EPERM would leave no program able to make a thread
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstddef>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "os/linux/syscall_numbers.hpp"

namespace {

constexpr unsigned clone_pidfd = 0x1000;
constexpr unsigned p_pidfd = 3;
constexpr unsigned madv_populate_read = 22, madv_populate_write = 23;

struct filter_builder {
  std::vector<sock_filter> code;

  static sock_filter ret_errno(unsigned error) {
    return BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (error & SECCOMP_RET_DATA));
  }
  void load_nr() { code.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr))); }
  // The low 32 bits of argument `index` (little-endian).
  void load_arg(unsigned index) {
    code.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, static_cast<unsigned>(offsetof(seccomp_data, args) + 8 * index)));
  }
  // if nr == number: return error
  void refuse(unsigned number, unsigned error) {
    code.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, number, 0, 1));
    code.push_back(ret_errno(error));
  }
  // if nr == number && (arg & bits): return error; the accumulator holds nr again after
  void refuse_flag(unsigned number, unsigned arg, unsigned bits, unsigned error) {
    code.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, number, 0, 3));
    load_arg(arg);
    code.push_back(BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, bits, 0, 1));
    code.push_back(ret_errno(error));
    load_nr();
  }
  // if nr == number && arg == value: return error
  void refuse_value(unsigned number, unsigned arg, unsigned value, unsigned error) {
    code.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, number, 0, 3));
    load_arg(arg);
    code.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, value, 0, 1));
    code.push_back(ret_errno(error));
    load_nr();
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4 || std::strcmp(argv[2], "--") != 0) {
    std::fprintf(stderr, "usage: as_kernel 5.10|5.3|4.18|eperm -- PROGRAM ARGS...\n");
    return 2;
  }
  const std::string profile = argv[1];
  if (profile != "5.10" && profile != "5.3" && profile != "4.18" && profile != "eperm") {
    std::fprintf(stderr, "as_kernel: unknown profile %s\n", argv[1]);
    return 2;
  }
  const bool eperm = profile == "eperm";
  const unsigned missing = eperm ? EPERM : ENOSYS;
  const unsigned invalid = eperm ? EPERM : EINVAL;
  filter_builder f;
  f.load_nr();
  f.refuse(SYS_close_range, missing);
  if (profile != "5.10") {
    f.refuse(SYS_pidfd_open, missing);
    f.refuse(SYS_pidfd_send_signal, missing);
    f.refuse(SYS_clone3, ENOSYS);
    f.refuse_flag(SYS_clone, 0, clone_pidfd, invalid);
    f.refuse_value(SYS_waitid, 0, p_pidfd, invalid);
    f.refuse_value(SYS_madvise, 2, madv_populate_read, invalid);
    f.refuse_value(SYS_madvise, 2, madv_populate_write, invalid);
  }
  f.code.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
  sock_fprog program{static_cast<unsigned short>(f.code.size()), f.code.data()};
  // With CAP_SYS_ADMIN (root) the filter goes on without no_new_privs, so
  // the suite's privilege tests see the process as it was; without it the
  // kernel asks for no_new_privs first.
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program) != 0 &&
      (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
       syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program) != 0)) {
    std::perror("as_kernel: seccomp");
    return 3;
  }
  execvp(argv[3], argv + 3);
  std::perror("as_kernel: exec");
  return 127;
}
