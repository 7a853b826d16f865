#!/usr/bin/env bash
# Time to compile a file that only includes a header, median of N runs, next to
# the same for <string> + <vector> and, when installed, <boost/process.hpp>.
# usage: benchmarks/include_cost.sh [runs] [compiler]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-7}
cxx=${2:-g++}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

median_ms() {  # file, include flags...
  local file=$1; shift
  local times=()
  for _ in $(seq "$runs"); do
    local start end
    start=$(date +%s%N)
    "$cxx" -std=c++17 -O0 -c "$file" -o "$work/out.o" "$@"
    end=$(date +%s%N)
    times+=($(( (end - start) / 1000000 )))
  done
  printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p"
}

printf '#include <string>\n#include <vector>\n' > "$work/baseline.cpp"
printf '#include <ductile/ductile.hpp>\n' > "$work/ductile.cpp"
printf '#include <ductile/expression.hpp>\n' > "$work/expression.cpp"
# The core without formatting: building, running, waiting, errors, pools.
printf '#include <ductile/%s.hpp>\n' expression handle error output pool > "$work/core.cpp"

# The floors: the standard headers (and fmt) that the public declarations
# themselves need (std::map, std::chrono, std::shared_ptr in signatures;
# formatting through the umbrella), with none of ductile's own text.
printf '#include <%s>\n' sys/types.h chrono cstdint initializer_list map memory optional string string_view \
  type_traits utility vector > "$work/expression_floor.cpp"
{ cat "$work/expression_floor.cpp"; printf '#include <%s>\n' fmt/core.h system_error \
  stdexcept csignal array; } > "$work/umbrella_floor.cpp"

base=$(median_ms "$work/baseline.cpp")
expression_floor=$(median_ms "$work/expression_floor.cpp")
umbrella_floor=$(median_ms "$work/umbrella_floor.cpp")
expression=$(median_ms "$work/expression.cpp" -Iinclude)
core=$(median_ms "$work/core.cpp" -Iinclude)
full=$(median_ms "$work/ductile.cpp" -Iinclude)
# The single header as every file but one of a program sees it (with fmt
# compiled, like the line above, and with fmt header-only), and as every
# file of a header-only program does.
single=$(median_ms "$work/ductile.cpp" -Isingle_include)
single_fmt_inline=$(median_ms "$work/ductile.cpp" -Isingle_include -DFMT_HEADER_ONLY)
single_inline=$(median_ms "$work/ductile.cpp" -Isingle_include -DFMT_HEADER_ONLY -DDUCTILE_HEADER_ONLY)
echo "compiler: $($cxx --version | head -n 1); median of $runs runs"
printf '%-40s %6s ms  %5s\n' "<string> + <vector>" "$base" "1.00x"
ratio() { awk -v a="$1" -v b="$base" 'BEGIN { printf "%.2fx", a / b }'; }
printf '%-40s %6s ms  %5s\n' "floor: the std headers expression.hpp needs" "$expression_floor" "$(ratio "$expression_floor")"
printf '%-40s %6s ms  %5s\n' "<ductile/expression.hpp>" "$expression" "$(ratio "$expression")"
printf '%-40s %6s ms  %5s\n' "core: expression handle error output pool" "$core" "$(ratio "$core")"
printf '%-40s %6s ms  %5s\n' "floor: the std headers and fmt it needs" "$umbrella_floor" "$(ratio "$umbrella_floor")"
printf '%-40s %6s ms  %5s\n' "<ductile/ductile.hpp> (compiled library)" "$full" "$(ratio "$full")"
printf '%-40s %6s ms  %5s\n' "single header (declarations)" "$single" "$(ratio "$single")"
printf '%-40s %6s ms  %5s\n' "the same, FMT_HEADER_ONLY" "$single_fmt_inline" "$(ratio "$single_fmt_inline")"
printf '%-40s %6s ms  %5s\n' "single header, DUCTILE_HEADER_ONLY" "$single_inline" "$(ratio "$single_inline")"
if [ -f /usr/include/boost/process.hpp ]; then
  printf '#include <boost/process.hpp>\n' > "$work/boost.cpp"
  boost=$(median_ms "$work/boost.cpp")
  printf '%-40s %6s ms  %5s\n' "<boost/process.hpp>" "$boost" "$(ratio "$boost")"
else
  echo "<boost/process.hpp>: not installed (apt-get install libboost-dev to compare)"
fi
