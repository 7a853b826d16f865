#!/usr/bin/env bash
# Builds and runs one small program four ways: through pkg-config and through
# CMake find_package after `meson install` into a prefix, as a meson
# subproject, and with nothing but the single header; and runs a script
# through the installed ductile-script. Run from the repository root.
set -euo pipefail
root=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix

echo "-- install into a prefix"
# libdir=lib: meson picks lib64 where dpkg-dev is missing, which Debian's CMake never searches.
meson setup "$work/build" --wrap-mode=nodownload --prefix=$prefix --libdir=lib -Dtests=false -Dexamples=false >/dev/null
meson compile -C "$work/build" >/dev/null
meson install -C "$work/build" >/dev/null
libdir=$prefix/lib
# A versioned soname, and an installed ductile-script that finds its own library.
readelf -d "$libdir/libductile.so" | grep -q 'Library soname: \[libductile.so.0\]' ||
  { echo "libductile.so has no soname libductile.so.0"; exit 1; }
readelf -d "$prefix/bin/ductile-script" | grep -q "R.*PATH.*\[$libdir\]" ||
  { echo "the installed ductile-script has no rpath to $libdir"; exit 1; }
env -u LD_LIBRARY_PATH "$prefix/bin/ductile-script" --version | grep -q '^ductile-script ' ||
  { echo "the installed ductile-script does not run without LD_LIBRARY_PATH"; exit 1; }

echo "-- pkg-config"
export PKG_CONFIG_PATH=$libdir/pkgconfig
g++ -std=c++17 tests/consumers/program/consumer.cpp $(pkg-config --cflags --libs ductile) -o "$work/with-pkg-config"
LD_LIBRARY_PATH=$libdir "$work/with-pkg-config"
unset PKG_CONFIG_PATH

echo "-- CMake find_package"
# Ninja, which the build already needs: a fresh machine may have no make.
cmake -G Ninja -S tests/consumers/cmake -B "$work/cmake" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/cmake" >/dev/null
LD_LIBRARY_PATH=$libdir "$work/cmake/consumer"

echo "-- meson subproject"
mkdir -p "$work/subproject/subprojects" "$work/subproject/program"
cp tests/consumers/meson/meson.build "$work/subproject/"
cp tests/consumers/program/consumer.cpp "$work/subproject/program/"
sed -i "s|'../program/consumer.cpp'|'program/consumer.cpp'|" "$work/subproject/meson.build"
git ls-files | tar -cf - -T - | (mkdir -p "$work/subproject/subprojects/ductile" && tar -xf - -C "$work/subproject/subprojects/ductile")
meson setup "$work/subproject/build" "$work/subproject" --wrap-mode=nodownload \
  -Dductile:tests=false -Dductile:examples=false >/dev/null
meson compile -C "$work/subproject/build" >/dev/null
"$work/subproject/build/consumer"

echo "-- single header only"
g++ -std=c++17 -Wall -Wextra -Wpedantic -Werror -DFMT_HEADER_ONLY -Isingle_include \
  tests/consumers/program/consumer.cpp -pthread -o "$work/single"
"$work/single"
echo "-- caps, users and proc headers alone, without fmt or range-v3"
printf '#include <ductile/caps.hpp>\n#include <ductile/users.hpp>\n#include <ductile/proc.hpp>\nint main() { return ductile::users::user_by_uid(0) && ductile::caps::last_supported() > 0 && ductile::proc::process::self().stat().ppid > 0 ? 0 : 1; }\n' \
  > "$work/modules.cpp"
g++ -std=c++17 -Wall -Wextra -Wpedantic -Werror -Isingle_include "$work/modules.cpp" -o "$work/modules"
"$work/modules"
echo "-- a script run by the installed ductile-script"
printf '#!/usr/bin/env ductile-script\n#include <ductile/ductile.hpp>\nint main(int, char** argv) { return ductile::cmd("echo", argv[1]).read() == "installed" ? 0 : 1; }\n' \
  > "$work/installed.cpp"
chmod +x "$work/installed.cpp"
PATH=$prefix/bin:$PATH XDG_CACHE_HOME=$work/cache "$work/installed.cpp" installed
echo "consumers: 6 passed, 0 failed"
