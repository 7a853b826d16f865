#!/usr/bin/env bash
# Installs the Debian packages ductile builds with, if any is missing.
# usage: tools/install-deps.sh [extra-package...]
set -euo pipefail
packages=(meson ninja-build cmake pkg-config g++ libfmt-dev librange-v3-dev doctest-dev "$@")
missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "installing: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
