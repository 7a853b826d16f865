#!/usr/bin/env bash
# Builds ductile with warnings as errors and runs the whole test suite:
# g++ as C++17, then clang++ as C++20. The sources must match .clang-format.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh clang clang-format
echo "== clang-format"
git ls-files '*.cpp' '*.hpp' | xargs clang-format --dry-run --Werror
configure() {
  local dir=$1; shift
  [ -d "$dir" ] || meson setup "$dir" --wrap-mode=nodownload --werror "$@" >/dev/null
}
CXX=g++ configure build-gcc-cpp17 -Dcpp_std=c++17
CXX=clang++ configure build-clang-cpp20 -Dcpp_std=c++20
passed=0
failed=0
status=0
for dir in build-gcc-cpp17 build-clang-cpp20; do
  echo "== $dir"
  meson test -C "$dir" --print-errorlogs --num-processes 2 | tee "$dir/check.log" || status=1
  passed=$((passed + $(grep -cE '^ *[0-9]+/[0-9]+ .* OK ' "$dir/check.log" || true)))
  failed=$((failed + $(grep -cE '^ *[0-9]+/[0-9]+ .* (FAIL|TIMEOUT|ERROR) ' "$dir/check.log" || true)))
done
echo "$passed passed, $failed failed"
exit $status
