#!/usr/bin/env bash
# Builds and runs one small program five ways: through pkg-config and through
# CMake find_package after `meson install` into a prefix, as a meson
# subproject, and with nothing but the single header, whose implementation is
# compiled once or inline in every file; and runs a script through the
# installed ductile-script. Run from the repository root.
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

echo "-- single header, one file compiling the implementation (DUCTILE_IMPLEMENTATION)"
# A program of three files (tests/consumers/split/), built both ways the
# single header offers; each way's files compile in parallel.
single_header_build() {  # output, extra flags...
  local output=$1; shift
  local objects=() compiles=()
  for source in tests/consumers/split/*.cpp; do
    objects+=("$output-$(basename "$source" .cpp).o")
    g++ -std=c++17 -Wall -Wextra -Wpedantic -Werror -DFMT_HEADER_ONLY -Isingle_include "$@" -c "$source" \
      -o "${objects[-1]}" &
    compiles+=($!)
  done
  for compile in "${compiles[@]}"; do wait "$compile"; done
  g++ "${objects[@]}" -pthread -o "$output"
}
single_header_build "$work/split"
"$work/split"
echo "-- single header, every file carrying it inline (DUCTILE_HEADER_ONLY)"
single_header_build "$work/split-inline" -DDUCTILE_HEADER_ONLY
"$work/split-inline"
# Without the implementation's file the program must not link, and the
# linker names ductile's functions (docs/single_header.md quotes the error).
if g++ "$work/split-main.o" "$work/split-words.o" -pthread -o "$work/unlinked" 2>"$work/link.err"; then
  echo "a program without DUCTILE_IMPLEMENTATION linked"; exit 1
fi
grep -q "undefined reference to .ductile::" "$work/link.err" ||
  { echo "the link error names no ductile function:"; cat "$work/link.err"; exit 1; }
echo "-- caps, users and proc headers alone, without fmt or range-v3"
printf '#include <ductile/caps.hpp>\n#include <ductile/users.hpp>\n#include <ductile/proc.hpp>\nint main() { return ductile::users::user_by_uid(0) && ductile::caps::last_supported() > 0 && ductile::proc::process::self().stat().ppid > 0 ? 0 : 1; }\n' \
  > "$work/modules.cpp"
g++ -std=c++17 -Wall -Wextra -Wpedantic -Werror -DDUCTILE_HEADER_ONLY -Isingle_include "$work/modules.cpp" -o "$work/modules"
"$work/modules"
echo "-- a script run by the installed ductile-script"
printf '#!/usr/bin/env ductile-script\n#include <ductile/ductile.hpp>\nint main(int, char** argv) { return ductile::cmd("echo", argv[1]).read() == "installed" ? 0 : 1; }\n' \
  > "$work/installed.cpp"
chmod +x "$work/installed.cpp"
PATH=$prefix/bin:$PATH XDG_CACHE_HOME=$work/cache "$work/installed.cpp" installed
echo "consumers: 7 passed, 0 failed"
