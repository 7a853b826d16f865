// The translation unit that compiles the single header's implementation for
// a build against single_include/ (meson's -Dsingle_header=true): every other
// file of that build sees the declarations only, as a user's would.
#define DUCTILE_IMPLEMENTATION
#include <ductile/ductile.hpp>
#if !defined(_WIN32)
#include <ductile/daemon.hpp>
#endif
