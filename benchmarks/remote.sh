#!/usr/bin/env bash
# benchmarks/remote.sh BUILD [N]: two OpenSSH servers on 127.0.0.1 (keys in a
# temporary directory, as the tests make them), then BUILD's remote_commands,
# a plain `ssh host true` loop in bash and, where installed, GNU parallel
# --sshlogin, each over N commands. Needs root (sshd).
set -euo pipefail
build=$1
n=${2:-200}
dir=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
ssh-keygen -q -t ed25519 -N '' -f "$dir/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$dir/user_key"
cp "$dir/user_key.pub" "$dir/authorized_keys"
mkdir -p /run/sshd
ports=()
for port in 22401 22402; do
  cat > "$dir/sshd_$port" <<CONFIG
ListenAddress 127.0.0.1
Port $port
HostKey $dir/host_key
AuthorizedKeysFile $dir/authorized_keys
StrictModes no
PidFile none
UsePAM no
PermitRootLogin yes
MaxSessions 200
MaxStartups 200
LogLevel ERROR
CONFIG
  /usr/sbin/sshd -f "$dir/sshd_$port" -D -e 2>/dev/null &
  pids+=($!)
  echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$dir/host_key.pub")" >> "$dir/known_hosts"
  ports+=("$port")
done
sleep 0.5
"$build/benchmarks/remote_commands" "${ports[0]}" "${ports[1]}" "$dir/user_key" "$dir/known_hosts" "$n" 10
ssh_args=(-o "UserKnownHostsFile=$dir/known_hosts" -o BatchMode=yes -p "${ports[0]}" -i "$dir/user_key")
start=$(date +%s.%N)
for ((i = 0; i < n; i++)); do ssh "${ssh_args[@]}" 127.0.0.1 true; done
end=$(date +%s.%N)
echo "bash loop of ssh host true: $(echo "($end - $start) * 1000 / $n" | bc -l | cut -c1-5) ms per command"
if command -v parallel >/dev/null; then
  login="ssh -o UserKnownHostsFile=$dir/known_hosts -o BatchMode=yes -p ${ports[0]} -i $dir/user_key 127.0.0.1"
  start=$(date +%s.%N)
  seq "$n" | parallel -j1 --sshlogin "$login" true >/dev/null
  end=$(date +%s.%N)
  echo "GNU parallel -j1 --sshlogin: $(echo "($end - $start) * 1000 / $n" | bc -l | cut -c1-5) ms per command"
fi
