#pragma once
// Settings shared by every implementation file.

// In the compiled library out-of-line definitions are ordinary; the single
// header defines DUCTILE_INLINE as `inline` so that it can be included anywhere.
#ifndef DUCTILE_INLINE
#define DUCTILE_INLINE
#endif

// Which backend makes and waits for children: Windows's (lib/os/windows/),
// Linux's own (clone, pidfds, lib/os/linux/), or the POSIX one (posix_spawn
// or fork, waitpid, lib/os/posix/) on every other system, and on Linux too
// where DUCTILE_PORTABLE is defined (meson's -Dportable=true). Exactly one
// is 1.
#if defined(_WIN32)
#define DUCTILE_WINDOWS_BACKEND 1
#define DUCTILE_LINUX_BACKEND 0
#define DUCTILE_POSIX_BACKEND 0
#elif defined(__linux__) && !defined(DUCTILE_PORTABLE)
#define DUCTILE_WINDOWS_BACKEND 0
#define DUCTILE_LINUX_BACKEND 1
#define DUCTILE_POSIX_BACKEND 0
#else
#define DUCTILE_WINDOWS_BACKEND 0
#define DUCTILE_LINUX_BACKEND 0
#define DUCTILE_POSIX_BACKEND 1
#endif

// Functions that run in a child between clone and exec: never called through
// the PLT (see lib/os/linux/child.cpp). Windows starts no such child.
#ifndef DUCTILE_HIDDEN
#if defined(_WIN32)
#define DUCTILE_HIDDEN
#else
#define DUCTILE_HIDDEN __attribute__((visibility("hidden")))
#endif
#endif
