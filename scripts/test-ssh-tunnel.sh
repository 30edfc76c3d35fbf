#!/usr/bin/env bash
# The SSH tunnel of README.md, on loopback: an sshd on 127.0.0.1 (OpenSSH,
# installed with apt when missing; needs root), a throw-away key, `ssh -N -L`
# from a free local port to a `backprop serve` left on its loopback default,
# and a `train` through the tunnel that must save the model a local flex run
# saves, byte for byte. Everything it starts is stopped on exit.
#
#   bash scripts/test-ssh-tunnel.sh [path/to/backprop]
set -euo pipefail
cd "$(dirname "$0")/.."
backprop="${1:-target-extra/release/examples/backprop}"
[ -x "$backprop" ] || { echo "build backprop with --features remote first (scripts/test-remote.sh)" >&2; exit 2; }
if ! command -v sshd >/dev/null && [ ! -x /usr/sbin/sshd ]; then
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-server openssh-client >/dev/null 2>&1
fi
work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

ssh-keygen -q -t ed25519 -N '' -f "$work/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$work/client_key"
cp "$work/client_key.pub" "$work/authorized_keys"
mkdir -p /run/sshd
ssh_port="$(free_port)"
/usr/sbin/sshd -D -e -p "$ssh_port" -o ListenAddress=127.0.0.1 -h "$work/host_key" \
  -o AuthorizedKeysFile="$work/authorized_keys" -o StrictModes=no -o PasswordAuthentication=no \
  -o PidFile="$work/sshd.pid" 2>"$work/sshd.log" &
pids+=($!)

echo "tunnel-test-token" > "$work/token"
"$backprop" serve --listen "127.0.0.1:$(free_port)" --token-file "$work/token" >"$work/serve.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -qs '^serving ' "$work/serve.out" && break; sleep 0.1; done
served="$(grep -m1 '^serving ' "$work/serve.out" | grep -o 'ws://[^ ]*')"
server_port="${served##*:}"

local_port="$(free_port)"
ssh -N -i "$work/client_key" -p "$ssh_port" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
  -o ExitOnForwardFailure=yes -L "$local_port:127.0.0.1:$server_port" "$(id -un)@127.0.0.1" 2>"$work/ssh.log" &
pids+=($!)
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$local_port") 2>/dev/null && break; sleep 0.1; done

"$backprop" train --epochs 30 --quiet --backend remote --remote "ws://127.0.0.1:$local_port" \
  --token-file "$work/token" --out "$work/tunnelled" >/dev/null
"$backprop" train --epochs 30 --quiet --out "$work/local" >/dev/null
cmp "$work/tunnelled/network.json" "$work/local/network.json"
grep -q 'session of 127.0.0.1' "$work/serve.out" || { echo "the server saw no session" >&2; exit 1; }
echo "ssh tunnel: ws://127.0.0.1:$local_port -> sshd 127.0.0.1:$ssh_port -> $served; train through it saves the local flex model byte for byte"
