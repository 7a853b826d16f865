#!/usr/bin/env bash
# ductile against what its users would pick instead, on one machine, in
# paired rounds: each round runs every peer once, in a rotating order, and
# each peer's figure is the median of its per-round ratios to the raw
# posix_spawn baseline of the same round (below 1 is faster than raw).
#
#   spawn and wait for /bin/true, from a parent with 10 MiB and with 2 GiB of
#   touched memory (a peer that forks copies the page tables of all of it);
#   capture 256 MiB of a child's stdout; `true | true | true`; a pool of
#   short jobs at twice the cores; 100 at a time through each library's
#   asynchronous interface; parent instructions per spawn (callgrind).
#
# The peers come from Debian packages, installed here if missing: Boost.Process
# v1 (Boost 1.74, libboost-dev), Boost.Process v2 (the headers of
# libboost1.81-dev, unpacked into a cache rather than installed over 1.74),
# GLib's GSubprocess, POCO, libuv, PStreams, Python 3's subprocess and Node's
# child_process.
#
# usage: benchmarks/peers/run.sh BUILD_DIR [rounds] [spawns]
#   BUILD_DIR: a build of ductile (meson setup BUILD_DIR --buildtype=release)
set -euo pipefail
cd "$(dirname "$0")/../.."
build=$(realpath "${1:?usage: run.sh BUILD_DIR [rounds] [spawns]}")
rounds=${2:-7}
spawns=${3:-200}
tools/install-deps.sh g++ libboost-dev libboost-filesystem-dev libglib2.0-dev libpoco-dev libuv1-dev \
  libpstreams-dev python3 nodejs libfmt-dev librange-v3-dev libasio-dev valgrind >/dev/null

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
[ -z "${PEERS_KEEP:-}" ] || trap - EXIT
cache=${XDG_CACHE_HOME:-$HOME/.cache}/ductile-peers
if [ ! -d "$cache/boost-1.81/usr/include/boost/process/v2" ]; then
  mkdir -p "$cache/download"
  (cd "$cache/download" && apt-get download libboost1.81-dev >/dev/null)
  dpkg-deb -x "$cache"/download/libboost1.81-dev_*.deb "$cache/boost-1.81"
fi

compile() {  # peer, flags...
  local name=$1; shift
  g++ -std=c++17 -O2 -o "$work/$name" "benchmarks/peers/$name.cpp" "$@"
}
# Two at a time; any failure stops the script.
compiles=()
compile raw & compiles+=($!)
compile ductile -Iinclude -L"$build" -lductile -lfmt -Wl,-rpath,"$build" -pthread & compiles+=($!)
compile boost_process_v1 -lboost_filesystem -pthread & compiles+=($!)
compile boost_process_v2 -isystem "$cache/boost-1.81/usr/include" -DBOOST_PROCESS_USE_STD_FS \
  -include "$PWD/benchmarks/peers/boost_1_81_fixes.hpp" -pthread & compiles+=($!)
compile glib $(pkg-config --cflags --libs gio-2.0) & compiles+=($!)
compile poco -lPocoFoundation & compiles+=($!)
compile libuv -luv & compiles+=($!)
compile pstreams & compiles+=($!)
for compile in "${compiles[@]}"; do wait "$compile"; done
cp benchmarks/peers/python.py benchmarks/peers/node.js "$work/"

peers=(raw ductile boost_process_v1 boost_process_v2 glib poco libuv pstreams python node)
run_peer() {  # peer, workload arguments...
  local name=$1; shift
  case $name in
    python) python3 "$work/python.py" "$@" ;;
    node) node "$work/node.js" "$@" ;;
    *) "$work/$name" "$@" ;;
  esac
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

measure() {  # label, workload arguments...
  local label=$1; shift
  # PEERS_ONLY=text runs only the workloads whose label holds it.
  [[ -z "${PEERS_ONLY:-}" || "$label" == *"$PEERS_ONLY"* ]] || return 0
  declare -A times=() ratios=()
  for round in $(seq "$rounds"); do
    declare -A this=()
    local count=${#peers[@]}
    for i in $(seq 0 $((count - 1))); do
      local name=${peers[$(((i + round) % count))]}
      this[$name]=$(run_peer "$name" "$@")
    done
    for name in "${peers[@]}"; do
      times[$name]+="${this[$name]} "
      ratios[$name]+="$(awk -v a="${this[$name]}" -v b="${this[raw]}" 'BEGIN { print a / b }') "
    done
  done
  for name in "${peers[@]}"; do
    local t r
    t=$(tr ' ' '\n' <<<"${times[$name]}" | grep . | median)
    r=$(tr ' ' '\n' <<<"${ratios[$name]}" | grep . | median)
    printf '| %s | %s | %s | %.2f |\n' "$label" "$name" "$(awk -v t="$t" 'BEGIN { printf "%.3f ms", t * 1000 }')" "$r"
  done
}

# PEERS_PARTS picks what runs (all three by default): "time" (the paired
# workloads), "instructions" (callgrind) and "include" (compile times).
parts=${PEERS_PARTS:-time instructions include}
part() { [[ " $parts " == *" $1 "* ]]; }

if part time; then
  echo "$(nproc) cores; $rounds rounds; ratio: median of per-round ratios to raw posix_spawn"
  echo "| workload | peer | median | ratio |"
  echo "|---|---|---|---|"
  measure "spawn, 10 MiB parent" spawn "$spawns" 10
  measure "spawn, 2 GiB parent" spawn "$((spawns / 4))" 2048
  measure "capture 256 MiB" capture 256
  measure "true \\| true \\| true" pipeline "$((spawns / 2))"
  # 2 x the cores at a time; the raw baseline is that many threads, each
  # looping posix_spawnp and waitpid.
  measure "pool: $((spawns * 5)) true, $((2 * $(nproc))) at a time (per job)" pool "$((spawns * 5))" "$((2 * $(nproc)))"
  # 100 in flight through each library's asynchronous interface (threads for
  # those without one, as for the raw baseline).
  measure "async: $((spawns * 5)) true, 100 at a time (per job)" async "$((spawns * 5))" 100
fi

# Parent user-space instructions per spawn-and-wait of /bin/true, counted by
# callgrind inside peer::spawn_true() only (each call builds its command, as
# a program does; the children's and the interpreters' are not comparable).
if part instructions && command -v valgrind >/dev/null; then
  echo
  echo "| peer | instructions per spawn_true() |"
  echo "|---|---|"
  for name in raw ductile boost_process_v1 boost_process_v2 glib poco libuv pstreams; do
    mkdir -p "$work/callgrind-$name"
    if ! valgrind --tool=callgrind --toggle-collect='peer::spawn_true()' \
      --callgrind-out-file="$work/callgrind-$name/out.%p" "$work/$name" spawn 1000 0 >/dev/null 2>&1; then
      # Boost.Process v2 asks for pidfd_open, which valgrind 3.19 does not know.
      printf '| %s | (fails under valgrind) |\n' "$name"
      continue
    fi
    # The parent's file has the most: a forking peer's children write their own.
    total=$(grep -h '^totals:' "$work/callgrind-$name"/out.* | awk '{ if ($2 > max) max = $2 } END { print max }')
    # 1,001 calls: the warm-up's first-call symbol binding is spread thin.
    printf '| %s | %s |\n' "$name" "$((total / 1001))"
  done
fi

# What including each library's header costs a file: median of 5 compiles
# (-fsyntax-only is not used: the figure is a whole -O0 compile, like
# benchmarks/include_cost.sh), against <string> + <vector>.
include_ms() {  # file, flags...
  local file=$1; shift
  for _ in 1 2 3 4 5; do
    local start end
    start=$(date +%s%N)
    g++ -std=c++17 -O0 -c "$file" -o "$work/include.o" "$@"
    end=$(date +%s%N)
    echo $(((end - start) / 1000000))
  done | median
}
include_row() {  # label, header, flags...
  local label=$1 header=$2; shift 2
  printf '#include <%s>\n' "$header" >"$work/include.cpp"
  local ms
  ms=$(include_ms "$work/include.cpp" "$@")
  printf '| %s | %s ms | %.2fx |\n' "$label" "$ms" "$(awk -v a="$ms" -v b="$base_ms" 'BEGIN { print a / b }')"
}
if part include; then
  printf '#include <string>\n#include <vector>\n' >"$work/baseline.cpp"
  base_ms=$(include_ms "$work/baseline.cpp")
  echo
  echo "| include | median | vs <string> + <vector> |"
  echo "|---|---|---|"
  printf '| <string> + <vector> | %s ms | 1.00x |\n' "$base_ms"
  include_row "<ductile/ductile.hpp>" ductile/ductile.hpp -Iinclude
  include_row "single header, declarations" ductile/ductile.hpp -Isingle_include
  include_row "<boost/process.hpp> (v1, 1.74)" boost/process.hpp
  include_row "<boost/process/v2/process.hpp> (1.81)" boost/process/v2/process.hpp \
    -isystem "$cache/boost-1.81/usr/include" -DBOOST_PROCESS_USE_STD_FS \
    -include "$PWD/benchmarks/peers/boost_1_81_fixes.hpp"
  include_row "<gio/gio.h>" gio/gio.h $(pkg-config --cflags gio-2.0)
  include_row "<Poco/Process.h>" Poco/Process.h
  include_row "<uv.h>" uv.h
  include_row "<pstreams/pstream.h>" pstreams/pstream.h
fi
