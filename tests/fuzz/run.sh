#!/usr/bin/env bash
# Builds the cmdline fuzzer with clang (libFuzzer, ASan, UBSan) against the
# single header and runs it for SECONDS (default 60) from the seed corpus.
# usage: tests/fuzz/run.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-60}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
clang++ -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -DFMT_HEADER_ONLY -DDUCTILE_HEADER_ONLY -Isingle_include tests/fuzz/cmdline_fuzzer.cpp -o "$work/cmdline_fuzzer"
mkdir -p "$work/corpus"
cp tests/fuzz/corpus/* "$work/corpus/"
# Artifacts (crashes, slow units) never land in the tree: a failing input is
# kept in a temporary directory that outlives the run, and shown in hex.
findings=$(mktemp -d "${TMPDIR:-/tmp}/ductile-fuzz-findings-XXXXXX")
if ! "$work/cmdline_fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -report_slow_units=0 -artifact_prefix="$findings/" "$work/corpus" >"$work/log" 2>&1; then
  grep -E "ERROR|SUMMARY|Test unit written" "$work/log" | head -n 5
  for finding in "$findings"/*; do xxd "$finding" | head -n 8; done
  echo "failing inputs kept in $findings"
  exit 1
fi
rm -rf "$findings"
grep -E "cov:" "$work/log" | tail -n 1
grep -E "^Done|stat::" "$work/log"
