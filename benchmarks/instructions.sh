#!/bin/sh
# Parent user-space instructions per `cmd("true").run()`, counted by callgrind
# (repeatable, unlike a timing). usage: benchmarks/instructions.sh BUILD_DIR [spawns]
set -eu
build=${1:?usage: instructions.sh BUILD_DIR [spawns]}
spawns=${2:-100}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out/callgrind.%p" \
  "$build/benchmarks/spawn_instructions" "$spawns" >/dev/null 2>"$out/log"
# The dump taken at "measured spawns" holds exactly the instrumented spawns.
total=$(grep -h '^totals:' "$out"/callgrind.* | awk '{ if ($2 > max) max = $2 } END { print max }')
echo "parent instructions per spawn: $((total / spawns)) ($total over $spawns spawns)"
