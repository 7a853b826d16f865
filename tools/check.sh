#!/usr/bin/env bash
# Everything CI checks, in order: formatting against .clang-format; that the
# committed single header is what tools/amalgamate.py writes; the whole test
# suite with warnings as errors, built with g++ and clang++ as C++17 and C++20
# (clang's C++17 builds under ASan+UBSan and under TSan), once more against
# the single header alone, and once through the POSIX backend; the library
# cross-built for Windows, its process-free suites run by Wine; the consumer builds;
# and a short run of the cmdline fuzzer.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh clang clang-format libclang-rt-14-dev python3 g++-multilib procps make mount libasio-dev libboost-dev openssh-server openssh-client valgrind \
  munge slurmctld slurmd slurm-client \
  g++-mingw-w64-x86-64-posix wine64

echo "== clang-format"
# A C++ file that runs as a script starts with a shebang, which is not C++:
# such files are checked from their second line on.
for source in $(git ls-files '*.cpp' '*.hpp' | grep -v '^single_include/'); do
  if [ "$(head -c 2 "$source")" = '#!' ]; then
    tail -n +2 "$source" | clang-format --assume-filename="$source" --dry-run --Werror
  else
    echo "$source"
  fi
done | xargs clang-format --dry-run --Werror

echo "== lib/os/ stands below the stages that use it"
# The platform layer takes plain data (os/child_plan.hpp, os/child_credentials.hpp):
# a backend never includes the plan, the run layer or the features built on it.
if grep -rnE '#include "(plan|run|remote|jobserver)/' lib/os; then
  echo "lib/os/ must not include lib/plan/, lib/run/, lib/remote/ or lib/jobserver/"
  exit 1
fi

echo "== single header is fresh"
fresh=$(mktemp -d)
# Under set -e a failing command in an EXIT trap becomes the script's exit
# status, whatever the tests said: clearing scratch space must never fail it.
remove_scratch() {
  rm -rf "$fresh" 2>/dev/null || { sleep 2; rm -rf "$fresh" || echo "note: could not remove $fresh"; }
}
trap remove_scratch EXIT
python3 tools/amalgamate.py "$fresh/ductile.hpp"
for header in ductile.hpp caps.hpp users.hpp proc.hpp daemon.hpp asio.hpp boost_asio.hpp; do
  if ! cmp -s "$fresh/$header" "single_include/ductile/$header"; then
    echo "single_include/ductile/$header is stale: run tools/amalgamate.py and commit it"
    exit 1
  fi
done

echo "== each public header compiles on its own"
headers_alone() {  # compiler
  for std in c++17 c++20; do
    for header in include/ductile/*.hpp; do
      echo "#include <ductile/$(basename "$header")>" |
        "$1" -std=$std -Wall -Wextra -Wpedantic -Werror -Iinclude -x c++ -fsyntax-only - ||
        { echo "$header does not compile alone ($1, $std)"; return 1; }
    done
  done
}
# One compiler per core.
headers_alone g++ &
gcc_headers=$!
headers_alone clang++ || exit 1
wait "$gcc_headers" || exit 1

echo "== the public headers compile for Windows (mingw-w64)"
# fmt, range-v3, doctest and standalone Asio come from cross/include (links
# to Debian's headers): /usr/include itself is glibc's and must not reach a
# mingw build. Boost.Asio's header is left out (Boost is not linked there).
for std in c++17 c++20; do
  for header in include/ductile/*.hpp; do
    case $header in */boost_asio.hpp) continue ;; esac
    echo "#include <ductile/$(basename "$header")>" |
      x86_64-w64-mingw32-g++-posix -std=$std -Wall -Wextra -Wpedantic -Werror -D_WIN32_WINNT=0x0A00 -Iinclude \
        -isystem cross/include -x c++ -fsyntax-only - || { echo "$header does not compile for Windows ($std)"; exit 1; }
  done
done

echo "== the single header compiles for Windows (mingw-w64)"
for std in c++17 c++20; do
  echo '#include <ductile/ductile.hpp>' |
    x86_64-w64-mingw32-g++-posix -std=$std -Wall -Wextra -Wpedantic -Werror -DFMT_HEADER_ONLY -DDUCTILE_HEADER_ONLY -Isingle_include \
      -isystem cross/include -x c++ -fsyntax-only - || { echo "single_include/ductile/ductile.hpp does not compile for Windows ($std)"; exit 1; }
done

echo "== the single header compiles with the POSIX backend too"
echo '#include <ductile/ductile.hpp>' |
  g++ -std=c++17 -Wall -Wextra -Wpedantic -Werror -DDUCTILE_PORTABLE -DFMT_HEADER_ONLY -DDUCTILE_HEADER_ONLY -Isingle_include \
    -x c++ -fsyntax-only - || { echo "single_include/ductile/ductile.hpp does not compile with DUCTILE_PORTABLE"; exit 1; }

configure() {
  local dir=$1; shift
  [ -d "$dir" ] || meson setup "$dir" --wrap-mode=nodownload --werror "$@" >/dev/null
}
# Five builds cover the matrix, each running the whole suite: g++ C++17
# (compiled library), g++ C++20 (the single header, no lib/ objects), clang++
# C++17 under ASan+UBSan (with leak checking) and clang++ C++20 under TSan, and g++ C++17 through the POSIX backend.
CXX=g++ configure build-gcc-cpp17 -Dcpp_std=c++17
CXX=clang++ configure build-clang-asan -Dcpp_std=c++17 -Db_sanitize=address,undefined -Db_lundef=false -Dexamples=false
CXX=clang++ configure build-clang-tsan-cpp20 -Dcpp_std=c++20 -Db_sanitize=thread -Db_lundef=false -Dexamples=false
# Unoptimized: every test compiles the whole implementation, and -O2 doubles that.
CXX=g++ configure build-single-header -Dcpp_std=c++20 -Dbuildtype=debug -Dsingle_header=true -Dexamples=false
# The POSIX backend that macOS and the BSDs use, forced on Linux; its files
# build in strict POSIX.1-2008 mode (meson.build). Unoptimized, like the above.
CXX=g++ configure build-portable -Dcpp_std=c++17 -Dbuildtype=debug -Dportable=true -Dexamples=false
builds=(build-gcc-cpp17 build-clang-asan build-clang-tsan-cpp20 build-single-header build-portable)
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export TSAN_OPTIONS=halt_on_error=1

passed=0
failed=0
status=0
failed_logs=()
# Runs one build's tests (extra meson test arguments after the directory) and
# adds meson's own totals: its "Summary of Failures" repeats every failing
# line, so counting result lines would count each failure twice.
run_suite() {
  local dir=$1 label=$2
  shift 2
  echo "== $label"
  meson test -C "$dir" --print-errorlogs --num-processes 2 "$@" | tee "$dir/check-$label.log" ||
    { status=1; echo "meson test exited non-zero for $label"; }
  count_results "$dir/check-$label.log"
}
count_results() {
  ok=$(sed -nE 's/^Ok: +([0-9]+).*/\1/p' "$1" | tail -n 1)
  bad=0
  for kind in Fail 'Unexpected Pass' Timeout; do
    n=$(sed -nE "s/^$kind: +([0-9]+).*/\\1/p" "$1" | tail -n 1)
    bad=$((bad + ${n:-0}))
  done
  # A build that stopped before its summary counts as one failure.
  [ -n "$ok" ] || { bad=$((bad + 1)); status=1; failed_logs+=("$1 (stopped before meson's summary)"); }
  [ "$bad" -eq 0 ] || failed_logs+=("$1")
  passed=$((passed + ${ok:-0}))
  failed=$((failed + bad))
}

# The cookbook runs bash and ductile side by side, and script_command runs
# the ductile-script tool (each script a compile): once unchanged and once
# under ASan is enough. The Slurm suite mostly waits for its cluster (a
# time limit takes a minute to fire) and adds no platform code of its own:
# with the compiled library it runs in the background while the next builds
# compile and test, and once more so under TSan (the Slurm pool's watcher
# thread). The two never overlap: each starts its own cluster.
cluster_runs=()
cluster_logs=()
start_cluster_suite() {  # build directory
  [ ${#cluster_runs[@]} -eq 0 ] || wait_cluster_suite
  # meson test builds only what the suites it runs need.
  ninja -C "$1" >/dev/null
  cluster_logs+=("$1/check-cluster.log")
  meson test -C "$1" --no-rebuild --print-errorlogs --suite cluster >"$1/check-cluster.log" 2>&1 &
  cluster_runs+=($!)
}
cluster_waited=0
wait_cluster_suite() {
  while [ $cluster_waited -lt ${#cluster_runs[@]} ]; do
    wait "${cluster_runs[$cluster_waited]}" ||
      { status=1; echo "meson test exited non-zero for the cluster suite of ${cluster_logs[$cluster_waited]%%/*}"; }
    cluster_waited=$((cluster_waited + 1))
  done
}
for dir in "${builds[@]}"; do
  case $dir in
    build-gcc-cpp17)
      run_suite "$dir" "$dir" --no-suite cluster
      start_cluster_suite "$dir"
      ;;
    build-clang-asan) run_suite "$dir" "$dir" --no-suite cluster ;;
    build-clang-tsan-cpp20)
      run_suite "$dir" "$dir" --no-suite docs --no-suite tools --no-suite cluster
      start_cluster_suite "$dir"
      ;;
    *) run_suite "$dir" "$dir" --no-suite docs --no-suite tools --no-suite cluster ;;
  esac
done

wait_cluster_suite
for log in "${cluster_logs[@]}"; do
  echo "== ${log%%/*} cluster (run in the background)"
  cat "$log"
  count_results "$log"
done

# The whole suite again as if on Linux 4.18 and in a container whose seccomp
# profile refuses new calls with EPERM (children held by pid), and the spawn
# suites as if on 5.10 (no close_range): see tests/os/as_kernel.cpp.
as_kernel="$PWD/build-gcc-cpp17/tests/helpers/as_kernel"
# The asynchronous layer, the cookbook and the script tool add nothing the
# platform layer does not already show there, so those runs leave them out.
# The container profile differs from 4.18 only in the errno of the refusals,
# so it leaves out the slow suites and the ssh ones too.
run_suite build-gcc-cpp17 kernel-4.18 --wrapper "$as_kernel 4.18 --" --no-suite async --no-suite docs --no-suite tools \
  --no-suite cluster
run_suite build-gcc-cpp17 container-eperm --wrapper "$as_kernel eperm --" --no-suite async --no-suite docs \
  --no-suite tools --no-suite slow --no-suite remote --no-suite cluster
run_suite build-gcc-cpp17 kernel-5.10 --wrapper "$as_kernel 5.10 --" run pipe redirect hygiene faults errors platforms

# The library cross-built for Windows with mingw-w64 (cross/mingw-w64.txt),
# its process-free suites run by Wine: one wine server, kept alive for the
# whole run (-p) in a prefix of its own, and stopped at the end.
echo "== Windows (mingw-w64, under Wine)"
configure build-windows --cross-file cross/mingw-w64.txt -Dbuildtype=debug -Dexamples=false
export WINEPREFIX="$fresh/wine" WINEDEBUG=-all
mkdir -p "$WINEPREFIX"
stop_wine() {
  /usr/lib/wine/wineserver -k 2>/dev/null || true
  # -k asks the server to end; -w waits until it has, so that nothing is still
  # writing into the prefix while it is removed.
  /usr/lib/wine/wineserver -w 2>/dev/null || true
}
trap 'stop_wine; remove_scratch' EXIT
# Neither the server nor the services the prefix's first boot starts may hold
# this script's output open: a test's captured output would never end.
/usr/lib/wine/wineserver -p </dev/null >/dev/null 2>&1
/usr/lib/wine/wine64 wineboot --init </dev/null >/dev/null 2>&1
run_suite build-windows windows
stop_wine

echo "== consumers"
if bash tests/consumers/run.sh; then passed=$((passed + 7)); else failed=$((failed + 1)); status=1; failed_logs+=(consumers); fi

echo "== fuzzing the cmdline parser for 30 s"
if tests/fuzz/run.sh 30; then passed=$((passed + 1)); else failed=$((failed + 1)); status=1; failed_logs+=(fuzzing); fi

# A CI page often shows only the end of this output: what failed is repeated
# here, with doctest's own lines for each failing check (and the test case a
# timed-out suite was in: tests/main.cpp names it).
if [ ${#failed_logs[@]} -gt 0 ]; then
  echo "== what failed"
  for entry in "${failed_logs[@]}"; do
    log=${entry%% *}
    echo "-- $entry"
    [ -f "$log" ] || continue
    grep -E '^ *[0-9]+/[0-9]+ .* (FAIL|TIMEOUT|UNEXPECTEDPASS|ERROR) ' "$log" | sort -u || true
    grep -E 'TEST CASE:|: (ERROR|FATAL ERROR): |^  values: |^  logged: |^  [A-Za-z].*(exception|signal)' "$log" | head -n 40 || true
    # A sanitizer's report: its first lines and the top of each stack.
    grep -E '^(WARNING|ERROR): [A-Za-z]*Sanitizer|^SUMMARY: |runtime error: |^    #[0-3] ' "$log" | head -n 30 || true
  done
fi
echo "$passed passed, $failed failed"
exit $status
