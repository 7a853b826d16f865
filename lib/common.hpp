#pragma once
// Settings shared by every implementation file.

// In the compiled library out-of-line definitions are ordinary; the single
// header defines DUCTILE_INLINE as `inline` so that it can be included anywhere.
#ifndef DUCTILE_INLINE
#define DUCTILE_INLINE
#endif

// Functions that run in a child between clone and exec: never called through
// the PLT (see lib/os/linux/child.cpp).
#ifndef DUCTILE_HIDDEN
#define DUCTILE_HIDDEN __attribute__((visibility("hidden")))
#endif
