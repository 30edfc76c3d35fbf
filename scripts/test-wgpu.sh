#!/usr/bin/env bash
# Runs the wgpu backend's tests: tests/wgpu.rs (training, gradients and the
# op sweep of `backprop conformance` on the GPU), with the library's unit tests.
#
#   bash scripts/test-wgpu.sh [extra cargo test arguments]
#
# Without a GPU, Vulkan runs on the CPU through Mesa's lavapipe (Debian's
# mesa-vulkan-drivers): this script installs it with apt when no Vulkan
# adapter is present (as root, or through sudo), checks that an adapter is
# there, and builds in its own target directory so that switching features
# never rebuilds the CPU build. It shares that directory and its feature set
# (wgpu and remote) with scripts/test-remote.sh, so CI compiles burn's GPU
# and remote stacks once for both: scripts/extra-features.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

adapters() {
  vulkaninfo --summary 2>/dev/null | sed -n 's/^[[:space:]]*deviceName[[:space:]]*=[[:space:]]*//p'
}

if ! command -v vulkaninfo >/dev/null || [[ -z "$(adapters)" ]]; then
  echo "no Vulkan adapter found: installing Mesa's Vulkan drivers (lavapipe) with apt" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    mesa-vulkan-drivers libvulkan1 vulkan-tools >/dev/null
fi
found="$(adapters)"
if [[ -z "$found" ]]; then
  echo "still no Vulkan adapter after installing the drivers; vulkaninfo says:" >&2
  vulkaninfo --summary >&2 || true
  exit 1
fi
echo "Vulkan adapters:"
sed 's/^/  /' <<<"$found"

# Mesa complains on stderr when XDG_RUNTIME_DIR is unset (as under CI); a
# private directory silences it.
if [[ -z "${XDG_RUNTIME_DIR:-}" ]]; then
  XDG_RUNTIME_DIR="$(mktemp -d)"
  export XDG_RUNTIME_DIR
  trap 'rm -rf "$XDG_RUNTIME_DIR"' EXIT
fi

source scripts/extra-features.sh
# The tests start the `backprop` binary, which a filtered `cargo test` does not build.
cargo build --release --features "$EXTRA_FEATURES" --example backprop
cargo test --release --features "$EXTRA_FEATURES" --test wgpu "$@"
