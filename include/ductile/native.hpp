#pragma once
/// \file
/// The system's own names for an open file and a process, as the public API
/// hands them out: the POSIX spellings on POSIX systems (a descriptor is an
/// `int`, a process a `pid_t`), a `HANDLE` and a `DWORD` on Windows. User and
/// group ids exist on Windows only so that expressions compile the same: a
/// run that switches them is "not supported on this system" there.

#ifdef _WIN32
#include <signal.h>

// The C library of Windows names SIGINT and SIGTERM but not SIGKILL, which
// send_signal() takes there too (it terminates the run's job object).
#ifndef SIGKILL
#define SIGKILL 9
#endif

namespace ductile {
using native_handle_type = void*;  ///< a HANDLE
using process_id = unsigned long;  ///< a DWORD, as GetProcessId gives it
using user_id = unsigned int;
using group_id = unsigned int;
}  // namespace ductile
#else
#include <sys/types.h>

namespace ductile {
using native_handle_type = int;  ///< a file descriptor
using process_id = pid_t;
using user_id = uid_t;
using group_id = gid_t;
}  // namespace ductile
#endif
