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
  -DFMT_HEADER_ONLY -Isingle_include tests/fuzz/cmdline_fuzzer.cpp -o "$work/cmdline_fuzzer"
mkdir -p "$work/corpus"
cp tests/fuzz/corpus/* "$work/corpus/"
# Crashing inputs are kept in tests/fuzz/findings/ and shown in hex.
mkdir -p tests/fuzz/findings
if ! "$work/cmdline_fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix=tests/fuzz/findings/ "$work/corpus" >"$work/log" 2>&1; then
  grep -E "ERROR|SUMMARY|Test unit written" "$work/log" | head -n 5
  for finding in tests/fuzz/findings/*; do xxd "$finding" | head -n 8; done
  exit 1
fi
grep -E "cov:" "$work/log" | tail -n 1
grep -E "^Done|stat::" "$work/log"
