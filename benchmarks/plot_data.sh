#!/usr/bin/env bash
# benchmarks/plot_data.sh BUILD RESULTS: runs the benchmarks that
# benchmarks/plot.py draws, from a release build with -Dbenchmarks=true, and
# keeps their output in RESULTS (one file per run) with the machine they ran
# on. Takes about 15 minutes on 2 cores; run it on an otherwise idle machine.
#   spawn-MIB.txt    spawn MIB: ductile and fork+exec against raw clone, parent of MIB
#   live-N.txt       live_children N: CPU per exit with N children alive
#   capture-MIB.txt  capture MIB, and capture-MIB-no-thp.txt without huge pages
set -euo pipefail
build=$(cd "$1" && pwd)/benchmarks
results=$2
mkdir -p "$results"
{
  echo "date: $(date -u +%Y-%m-%d)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
  echo "cores: $(nproc)"
  echo "memory: $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)"
  echo "kernel: $(uname -r)"
} > "$results/machine.txt"

# Fork pays for the parent's page tables, so its spawns per round shrink as
# the parent grows.
for mib in 10 100 500 1000 2000 4000; do
  forks=$((mib >= 1000 ? 20 : 100))
  "$build/spawn" "$mib" 100 7 "$forks" | tee "$results/spawn-$mib.txt"
done
for spec in 100:5 1000:10 2000:12 4000:18 10000:35; do
  n=${spec%%:*}
  "$build/live_children" "$n" "${spec##*:}" | tee "$results/live-$n.txt"
done
for mib in 1 16 64 256 1024; do
  "$build/capture" "$build/writer" "$mib" 5 | tee "$results/capture-$mib.txt"
  "$build/capture" "$build/writer" "$mib" 5 no-thp | tee "$results/capture-$mib-no-thp.txt"
done
