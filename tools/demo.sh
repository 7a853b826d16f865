#!/usr/bin/env bash
# Builds ductile and runs a real pipeline: the log summary example
# (grep | cut | sort | uniq -c | sort -rn | head) on a sample access log, a
# C++ file run like a shell script by the ductile-script command just built.
# JOBS=N limits the build to N compilers at once (ninja's default is one per
# core, plus two).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
[ -d build-demo ] || meson setup build-demo --wrap-mode=nodownload -Dtests=false >/dev/null
ninja -C build-demo ${JOBS:+-j "$JOBS"} >/dev/null
PATH="$PWD/build-demo/tools/ductile-script:$PATH" examples/log_summary.cpp examples/access.log
