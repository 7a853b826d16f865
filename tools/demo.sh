#!/usr/bin/env bash
# Builds ductile and runs a real pipeline: the log summary example
# (grep | cut | sort | uniq -c | sort -rn | head) on a sample access log.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
[ -d build-demo ] || meson setup build-demo --wrap-mode=nodownload -Dtests=false >/dev/null
ninja -C build-demo >/dev/null
build-demo/examples/log_summary examples/access.log
