// Included first by old_headers.sh: the system headers as glibc 2.28 (RHEL 8)
// ships them, without the names of newer calls and flags. Their include
// guards keep the library's own includes from bringing the names back.
#include <sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#undef SYS_pidfd_send_signal
#undef SYS_pidfd_open
#undef SYS_pidfd_getfd
#undef SYS_clone3
#undef SYS_close_range
#undef CLONE_PIDFD
#undef P_PIDFD
#undef MADV_POPULATE_READ
#undef MADV_POPULATE_WRITE
#undef CLOSE_RANGE_CLOEXEC
