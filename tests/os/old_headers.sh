#!/usr/bin/env bash
# The platform layer compiles with system headers that lack every call and
# flag newer than glibc 2.28 (see old_headers.hpp): each has a fallback.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
compiler=${CXX:-c++}
for source in "$root"/lib/os/linux/*.cpp; do
  "$compiler" -std=c++17 -fsyntax-only -Wall -Wextra -Werror -I"$root/include" -I"$root/lib" \
    -include "$root/tests/os/old_headers.hpp" "$source"
done
echo "lib/os/linux compiles without the newer system call names"
