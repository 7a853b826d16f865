#!/bin/sh
# Run by `meson install`: a library installed as root into a directory the
# dynamic linker searches is found only once its cache knows it. Staged
# installs (DESTDIR) and unprivileged ones leave the cache alone.
[ -z "${DESTDIR:-}" ] || exit 0
[ "$(id -u)" = 0 ] || exit 0
command -v ldconfig >/dev/null 2>&1 || exit 0
exec ldconfig
