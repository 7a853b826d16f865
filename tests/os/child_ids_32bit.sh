#!/usr/bin/env bash
# Builds the child code for 32-bit x86 and checks that it uses the 32-bit id
# calls; where the kernel runs 32-bit programs, also that, as root, it sets ids
# and groups above 65535 exactly (tests/os/child_ids_32bit.cpp). Skips (77)
# with a reason where no 32-bit compiler is installed.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
if [ "$(uname -m)" != x86_64 ]; then
  echo "skipped: the 32-bit build is checked on x86_64 hosts"
  exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if ! echo 'int main() {}' | g++ -m32 -x c++ - -o "$work/probe" 2>/dev/null; then
  echo "skipped: g++ cannot build 32-bit programs here (install g++-multilib)"
  exit 77
fi
flags=(-m32 -std=c++17 -O2 -Wall -Wextra -Werror -I"$root/include" -I"$root/lib")

# 1. The machine code: the credential step calls setgroups32 (206), setresgid32
# (210) and setresuid32 (208), never the 16-bit setgroups (81), setresgid (170)
# or setresuid (164).
g++ "${flags[@]}" -c "$root/lib/os/linux/child.cpp" -o "$work/child.o"
numbers=$(objdump -d -C --no-show-raw-insn "$work/child.o" |
  awk '/<ductile::detail::apply_credentials/,/^$/' | grep -oE '\$0x[0-9a-f]+' | sort -u)
for wanted in 0xce 0xd2 0xd0; do
  grep -qx "\$$wanted" <<<"$numbers" || { echo "apply_credentials does not use system call $wanted"; exit 1; }
done
for legacy in 0x51 0xaa 0xa4; do
  if grep -qx "\$$legacy" <<<"$numbers"; then echo "apply_credentials uses the 16-bit call $legacy"; exit 1; fi
done
echo "32-bit child code uses setgroups32, setresgid32, setresuid32"

# 2. For real, where this kernel runs 32-bit programs and we are root.
if ! "$work/probe" 2>/dev/null; then
  echo "not run: this kernel does not execute 32-bit programs (no IA-32 emulation)"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "not run: switching ids needs root"
  exit 0
fi
g++ "${flags[@]}" "$root/tests/os/child_ids_32bit.cpp" "$root/lib/os/linux/child.cpp" "$root/lib/os/linux/system_calls.cpp" "$root/lib/os/system_calls.cpp" \
  "$root/lib/os/descriptor.cpp" "$root/lib/os/fault_seam.cpp" -o "$work/child_ids_32bit"
status=$("$work/child_ids_32bit")
echo "$status" | grep -E '^(Uid|Gid|Groups):'
echo "$status" | grep -qP '^Uid:\t100000\t100000\t100000\t100000$'
echo "$status" | grep -qP '^Gid:\t100001\t100001\t100001\t100001$'
echo "$status" | grep -qP '^Groups:\t1000 70001 ?$'
echo "ids and groups above 65535 set exactly by the 32-bit child"
