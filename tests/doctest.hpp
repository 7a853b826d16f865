#pragma once
// Debian installs <doctest/doctest.h>; the meson wrap provides <doctest.h>.
#if __has_include(<doctest/doctest.h>)
#include <doctest/doctest.h>
#else
#include <doctest.h>
#endif
