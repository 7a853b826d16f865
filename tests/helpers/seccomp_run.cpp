// seccomp_run ERRNO SYSCALL[,SYSCALL...] -- PROGRAM ARGS...: runs PROGRAM with
// a seccomp filter under which each named system call (by number) fails with
// ERRNO, as in a container whose profile refuses calls it does not know.
// NR&MASK refuses the call only when its first argument has a bit of MASK set
// (clone with a flag an emulator does not take).
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 5 || std::strcmp(argv[3], "--") != 0) {
    std::fprintf(stderr, "usage: seccomp_run ERRNO NR[,NR...] -- PROGRAM ARGS...\n");
    return 2;
  }
  const unsigned error = static_cast<unsigned>(std::atoi(argv[1]));
  struct refused_call {
    unsigned number;
    unsigned mask;  // 0: always
  };
  std::vector<refused_call> calls;
  for (char* item = std::strtok(argv[2], ","); item != nullptr; item = std::strtok(nullptr, ",")) {
    const char* mask = std::strchr(item, '&');
    calls.push_back({static_cast<unsigned>(std::atoi(item)),
                     mask != nullptr ? static_cast<unsigned>(std::strtoul(mask + 1, nullptr, 0)) : 0U});
  }
  const sock_filter refuse = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (error & SECCOMP_RET_DATA));
  std::vector<sock_filter> program;
  for (const refused_call& call : calls) {
    program.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)));
    if (call.mask == 0) {
      program.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, call.number, 0, 1));
      program.push_back(refuse);
    } else {
      program.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, call.number, 0, 3));
      program.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args[0])));  // the low word
      program.push_back(BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, call.mask, 0, 1));
      program.push_back(refuse);
    }
  }
  program.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
  sock_fprog filter{static_cast<unsigned short>(program.size()), program.data()};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &filter) != 0) {
    std::perror("seccomp");
    return 3;
  }
  execv(argv[4], argv + 4);
  std::perror("exec");
  return 127;
}
