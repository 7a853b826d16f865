#pragma once
// System calls newer than the oldest C library headers ductile builds with
// (glibc 2.28, RHEL 8): spelled out here. Since Linux 5.1 new calls have one
// number on every architecture. tests/os/old_headers.hpp checks that the
// library compiles without the headers' own definitions.

#include <sys/syscall.h>

#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
